import { type Detector, type DetectorSnapshot, type Params } from './detector';
import { SnapshotReader } from './snapshot';

/** Supplies `step` as score-then-learn; detectors that can fuse the two override it. */
export abstract class BaseDetector implements Detector {
  abstract readonly kind: string;
  abstract learn(value: number, t: number): void;
  abstract score(value: number, t: number): number;
  abstract snapshot(): DetectorSnapshot;

  step(value: number, t: number): number {
    const s = this.score(value, t);
    this.learn(value, t);
    return s;
  }
}

/**
 * For detectors whose whole state is a handful of numbers: they live in one Float64Array
 * `s`, laid out by the detector's own index constants, and this class snapshots and
 * restores it. `s` is the only state, so a snapshot is a copy of it.
 */
export abstract class ScalarStateDetector extends BaseDetector {
  protected readonly s: Float64Array;

  protected constructor(
    readonly params: Params,
    private readonly version: number,
    slots: number,
    state: Float64Array | undefined,
  ) {
    super();
    this.s = state ?? new Float64Array(slots);
  }

  /** The state array of a snapshot of `kind`, checked against the versions and length given. */
  protected static scalarState(
    snapshot: DetectorSnapshot,
    kind: string,
    versions: readonly number[],
    slots: number,
  ): Float64Array {
    return new SnapshotReader(snapshot, kind, versions).array('s', Float64Array, slots);
  }

  snapshot(): DetectorSnapshot {
    return { kind: this.kind, version: this.version, params: this.params, state: { s: this.s.slice() } };
  }
}
