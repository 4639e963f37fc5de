import { type DetectorSnapshot, type StateArray } from './detector';
import { DetectorError, DetectorErrorCode } from './errors';

type ArrayCtor<A extends StateArray> = { new (length: number): A; readonly name: string };

/**
 * Reads a snapshot for `restore`: checks kind and version, and hands out state arrays
 * only with the expected type and length, so a corrupt checkpoint fails loudly
 * instead of scoring garbage.
 */
export class SnapshotReader {
  constructor(
    readonly snapshot: DetectorSnapshot,
    kind: string,
    supportedVersions: readonly number[],
  ) {
    if (snapshot.kind !== kind) {
      throw new DetectorError(
        DetectorErrorCode.UNSUPPORTED_SNAPSHOT,
        `snapshot is of kind '${snapshot.kind}', expected '${kind}'`,
      );
    }
    if (!supportedVersions.includes(snapshot.version)) {
      throw new DetectorError(
        DetectorErrorCode.UNSUPPORTED_SNAPSHOT,
        `${kind}: snapshot version ${snapshot.version} is not supported (supported: ${supportedVersions.join(', ')})`,
      );
    }
  }

  get version(): number {
    return this.snapshot.version;
  }

  array<A extends StateArray>(name: string, ctor: ArrayCtor<A>, length?: number): A {
    const value = this.snapshot.state[name];
    if (!(value instanceof ctor)) {
      throw this.corrupt(`state '${name}' must be a ${ctor.name}`);
    }
    if (length !== undefined && value.length !== length) {
      throw this.corrupt(`state '${name}' has length ${value.length}, expected ${length}`);
    }
    return value.slice() as A;
  }

  child(role: string): DetectorSnapshot {
    const child = this.snapshot.children?.[role];
    if (!child) throw this.corrupt(`child '${role}' is missing`);
    return child;
  }

  private corrupt(why: string): DetectorError {
    return new DetectorError(DetectorErrorCode.CORRUPT_SNAPSHOT, `${this.snapshot.kind}: ${why}`);
  }
}
