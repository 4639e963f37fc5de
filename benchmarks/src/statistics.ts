import { studentTQuantile, studentTTwoSided } from './student-t';

/**
 * Sample statistics for benchmark runs: two samples of unequal size and variance
 * (a baseline and a candidate), so Welch's test rather than Student's pooled one.
 */

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('mean of an empty sample');
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

/** Unbiased (n - 1) variance, in two passes: one-pass formulas cancel badly at 1e7 points/s. */
export function sampleVariance(xs: readonly number[]): number {
  if (xs.length < 2) throw new RangeError(`variance needs at least 2 values, got ${xs.length}`);
  const m = mean(xs);
  let sum = 0;
  for (const x of xs) sum += (x - m) * (x - m);
  return sum / (xs.length - 1);
}

/** Sample standard deviation, or null for fewer than two values. */
export function standardDeviation(xs: readonly number[]): number | null {
  return xs.length < 2 ? null : Math.sqrt(sampleVariance(xs));
}

export interface WelchTest {
  /** (mean(a) - mean(b)) / standard error, as R's `t.test(a, b)` reports it. */
  readonly t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  readonly df: number;
  /** Two-sided p-value for equal means. */
  readonly p: number;
}

export function welchTTest(a: readonly number[], b: readonly number[]): WelchTest {
  const va = sampleVariance(a) / a.length;
  const vb = sampleVariance(b) / b.length;
  const difference = mean(a) - mean(b);
  const se2 = va + vb;
  if (se2 === 0) {
    // Two constant samples: the difference is exact, so it is either nothing or certain.
    return {
      t: difference === 0 ? 0 : Math.sign(difference) * Infinity,
      df: a.length + b.length - 2,
      p: difference === 0 ? 1 : 0,
    };
  }
  const t = difference / Math.sqrt(se2);
  const df = (se2 * se2) / ((va * va) / (a.length - 1) + (vb * vb) / (b.length - 1));
  return { t, df, p: studentTTwoSided(t, df) };
}

export interface Interval {
  readonly low: number;
  readonly high: number;
}

/**
 * Confidence interval for mean(numerator) / mean(denominator) by Fieller's theorem,
 * with Welch–Satterthwaite degrees of freedom. Unlike "difference interval divided by
 * the baseline mean" it accounts for the baseline's own noise, and it is asymmetric as
 * a ratio's interval should be. Null when the denominator's mean cannot be told apart
 * from zero at this confidence: the interval is then unbounded.
 */
export function ratioOfMeansInterval(
  numerator: readonly number[],
  denominator: readonly number[],
  confidence = 0.95,
): Interval | null {
  if (!(confidence > 0 && confidence < 1))
    throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const mn = mean(numerator);
  const md = mean(denominator);
  if (md === 0) return null;
  const vn = sampleVariance(numerator) / numerator.length;
  const vd = sampleVariance(denominator) / denominator.length;
  const ratio = mn / md;
  const spread = vn + ratio * ratio * vd;
  if (spread === 0) return { low: ratio, high: ratio };
  const df =
    (spread * spread) /
    ((vn * vn) / (numerator.length - 1) + (ratio ** 4 * vd * vd) / (denominator.length - 1));
  const t = studentTQuantile(1 - (1 - confidence) / 2, df);
  // The interval is {r : (mn - r md)^2 <= t^2 (vn + r^2 vd)}, a quadratic inequality in r.
  const leading = md * md - t * t * vd;
  if (leading <= 0) return null;
  const root = t * Math.sqrt(md * md * vn + mn * mn * vd - t * t * vn * vd);
  return { low: (md * mn - root) / leading, high: (md * mn + root) / leading };
}

/**
 * The p-th percentile (p in [0, 100]) of a sample, interpolated linearly between order
 * statistics (Hyndman and Fan's type 7: R's and NumPy's default), so p50 of two values is
 * their mean and p100 the largest.
 */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) throw new RangeError('percentile of an empty sample');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`);
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const below = Math.floor(rank);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (rank - below) * (sorted[above] - sorted[below]);
}
