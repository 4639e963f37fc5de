import { type Detector, type DetectorSnapshot, type Params } from './detector';
import { DetectorError, DetectorErrorCode } from './errors';
import { EwmaDetector } from './ewma.detector';

interface DetectorFactory {
  readonly description: string;
  create(params?: Params): Detector;
  restore(snapshot: DetectorSnapshot): Detector;
}

const factories: Record<string, DetectorFactory> = {
  ewma: {
    description: 'exponentially weighted mean and variance: sudden spikes and dips',
    create: (params) => new EwmaDetector(params),
    restore: (snapshot) => EwmaDetector.restore(snapshot),
  },
};

/** The detector the engine and `seismo score` use when none is named. */
export const DEFAULT_DETECTOR = 'ewma';

export function detectorKinds(): string[] {
  return Object.keys(factories);
}

export function describeDetectors(): Array<{ kind: string; description: string }> {
  return Object.entries(factories).map(([kind, f]) => ({ kind, description: f.description }));
}

export function createDetector(kind: string = DEFAULT_DETECTOR, params?: Params): Detector {
  return factory(kind).create(params);
}

export function restoreDetector(snapshot: DetectorSnapshot): Detector {
  return factory(snapshot.kind).restore(snapshot);
}

function factory(kind: string): DetectorFactory {
  const f = Object.prototype.hasOwnProperty.call(factories, kind) ? factories[kind] : undefined;
  if (!f) {
    throw new DetectorError(
      DetectorErrorCode.UNKNOWN_DETECTOR,
      `unknown detector '${kind}'; known: ${detectorKinds().join(', ')}`,
    );
  }
  return f;
}
