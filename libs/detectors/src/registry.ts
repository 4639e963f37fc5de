import { type Detector, type DetectorSnapshot, type Params } from './detector';
import { DetectorError, DetectorErrorCode } from './errors';
import { CusumDetector } from './cusum.detector';
import { EnsembleDetector } from './ensemble.detector';
import { EwmaDetector } from './ewma.detector';
import { FlatlineDetector } from './flatline.detector';
import { GapDetector } from './gap.detector';
import { RcfDetector } from './rcf.detector';
import { RobustZScoreDetector } from './robust-zscore.detector';
import { SeasonalDetector } from './seasonal.detector';
import { SequenceDetector } from './sequence.detector';
import { SpikeDetector } from './spike.detector';
import { WindowedZScoreDetector } from './windowed-zscore.detector';

interface DetectorFactory {
  readonly description: string;
  create(params?: Params): Detector;
  restore(snapshot: DetectorSnapshot): Detector;
}

const factories: Record<string, DetectorFactory> = {
  ensemble: {
    description: 'the default: every detector below, combined and calibrated by anomaly likelihood',
    create: (params) => new EnsembleDetector(params),
    restore: (snapshot) => EnsembleDetector.restore(snapshot),
  },
  'robust-zscore': {
    description: 'streaming median and MAD: spikes and dips, robust to heavy tails',
    create: (params) => new RobustZScoreDetector(params),
    restore: (snapshot) => RobustZScoreDetector.restore(snapshot),
  },
  ewma: {
    description: 'exponentially weighted mean and variance: sudden spikes and dips',
    create: (params) => new EwmaDetector(params),
    restore: (snapshot) => EwmaDetector.restore(snapshot),
  },
  'windowed-zscore': {
    description: 'mean and standard deviation of the last `window` points: spikes and dips, fixed memory',
    create: (params) => new WindowedZScoreDetector(params),
    restore: (snapshot) => WindowedZScoreDetector.restore(snapshot),
  },
  cusum: {
    description: 'two-sided CUSUMs on standardised residuals: changes of level and of variance',
    create: (params) => new CusumDetector(params),
    restore: (snapshot) => CusumDetector.restore(snapshot),
  },
  rcf: {
    description: 'robust random cut forest over shingles: shapes not seen lately (slow, ~1 MB per series)',
    create: (params) => new RcfDetector(params),
    restore: (snapshot) => RcfDetector.restore(snapshot),
  },
  seasonal: {
    description: 'seasonal baseline: values unusual for their time in the daily (or other) cycle',
    create: (params) => new SeasonalDetector(params),
    restore: (snapshot) => SeasonalDetector.restore(snapshot),
  },
  spike: {
    description: 'values beyond the recently seen range: new highs and lows',
    create: (params) => new SpikeDetector(params),
    restore: (snapshot) => SpikeDetector.restore(snapshot),
  },
  flatline: {
    description: 'stuck sensors: runs of repeated values and collapsed movement',
    create: (params) => new FlatlineDetector(params),
    restore: (snapshot) => FlatlineDetector.restore(snapshot),
  },
  sequence: {
    description: 'novel sequences: a pattern of levels the metric has not made before',
    create: (params) => new SequenceDetector(params),
    restore: (snapshot) => SequenceDetector.restore(snapshot),
  },
  gap: {
    description: 'gaps in reporting, judged on the first point after the silence',
    create: (params) => new GapDetector(params),
    restore: (snapshot) => GapDetector.restore(snapshot),
  },
};

/** The detector the engine and `seismo score` use when none is named. */
export const DEFAULT_DETECTOR = 'ensemble';

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
