import { type AnomalyContext } from '@seismo/storage';
import { type FeedbackSignature } from './feedback';

/** What a signature is computed from: an anomaly as stored, or a candidate the alert path is about to send. */
export interface SignedAnomaly {
  readonly ts: number;
  readonly value: number;
  readonly score: number;
  readonly detectors: readonly string[];
  /** The series' last points, oldest first, the anomalous one last (AnomalyRecord.context). */
  readonly context: AnomalyContext;
}

/** 1.4826 * MAD estimates a normal distribution's standard deviation. */
const MAD_TO_SIGMA = 1.4826;
/** sqrt(pi/2) * mean absolute deviation estimates it too: the fallback when more than half the points agree. */
const MEAN_ABS_TO_SIGMA = 1.2533;
/**
 * The spread floor, relative to the baseline's level: on a perfectly flat context any
 * deviation is enormous in robust units, and this keeps the figure finite and comparable
 * (a jump of 1% of the level reads as 100 units, of 2% as 200).
 */
const RELATIVE_FLOOR = 1e-4;
/** The floor when the level is 0 too. */
const ABSOLUTE_FLOOR = 1e-9;

/**
 * The signature of an anomaly: the direction and size of its deviation from its context
 * window, in robust units (|value - median| / (1.4826 * MAD)), and the detectors that fired.
 *
 * The baseline is the context without the anomalous point (the last one, when its instant
 * is the anomaly's): the point must not vouch for itself. When MAD is 0 (more than half the
 * baseline is one value) the spread falls back to the mean absolute deviation, then to a
 * floor relative to the level. Pure: the same anomaly gives the same signature anywhere.
 */
export function signatureOf(anomaly: SignedAnomaly): FeedbackSignature {
  const { ts, values } = anomaly.context;
  const n = Math.min(ts.length, values.length);
  const baseline: number[] = [];
  const last = n > 0 && ts[n - 1] === anomaly.ts ? n - 1 : n;
  for (let i = 0; i < last; i++) if (Number.isFinite(values[i])) baseline.push(values[i]);
  const detectors = [...new Set(anomaly.detectors)].sort();
  if (baseline.length === 0 || !Number.isFinite(anomaly.value)) {
    return { direction: 0, magnitude: 0, detectors, score: anomaly.score };
  }
  const center = median(baseline);
  const deviation = anomaly.value - center;
  const mad = median(baseline.map((v) => Math.abs(v - center)));
  let spread = MAD_TO_SIGMA * mad;
  if (spread === 0) {
    spread =
      (MEAN_ABS_TO_SIGMA * baseline.reduce((sum, v) => sum + Math.abs(v - center), 0)) / baseline.length;
  }
  spread = Math.max(spread, RELATIVE_FLOOR * Math.abs(center), ABSOLUTE_FLOOR);
  const magnitude = Math.abs(deviation) / spread;
  return {
    direction: deviation > 0 ? 1 : deviation < 0 ? -1 : 0,
    magnitude: Number.isFinite(magnitude) ? magnitude : Number.MAX_VALUE,
    detectors,
    score: anomaly.score,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
