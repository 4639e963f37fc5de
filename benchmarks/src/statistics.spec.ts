import {
  mean,
  percentile,
  ratioOfMeansInterval,
  sampleVariance,
  standardDeviation,
  welchTTest,
} from './statistics';
import { studentTQuantile } from './student-t';

// R's `sleep` data set; `t.test(extra ~ group, data = sleep)` prints
// t = -1.8608, df = 17.776, p-value = 0.07939, 95% CI -3.3654832 0.2054832.
const sleepGroup1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
const sleepGroup2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

describe('sample statistics', () => {
  it('computes mean, unbiased variance and standard deviation', () => {
    expect(mean([2, 4, 4, 4, 5, 5, 7, 9])).toBe(5);
    expect(sampleVariance([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(32 / 7, 14);
    expect(standardDeviation([1, 3])).toBeCloseTo(Math.SQRT2, 14);
    expect(standardDeviation([42])).toBeNull();
  });

  it('keeps precision on large values with a small spread', () => {
    expect(sampleVariance([1e9 + 1, 1e9 + 2, 1e9 + 3])).toBeCloseTo(1, 9);
  });

  it('refuses samples too small for the statistic', () => {
    expect(() => mean([])).toThrow(RangeError);
    expect(() => sampleVariance([1])).toThrow(RangeError);
  });
});

describe('welchTTest', () => {
  it("reproduces R's Welch test on the sleep data", () => {
    const test = welchTTest(sleepGroup1, sleepGroup2);
    expect(test.t).toBeCloseTo(-1.8608, 4);
    expect(test.df).toBeCloseTo(17.776, 3);
    expect(test.p).toBeCloseTo(0.07939, 5);
    // R's interval for the difference uses the same quantile at the fractional df.
    const se = Math.sqrt(
      sampleVariance(sleepGroup1) / sleepGroup1.length + sampleVariance(sleepGroup2) / sleepGroup2.length,
    );
    const half = studentTQuantile(0.975, test.df) * se;
    expect(mean(sleepGroup1) - mean(sleepGroup2) - half).toBeCloseTo(-3.3654832, 6);
    expect(mean(sleepGroup1) - mean(sleepGroup2) + half).toBeCloseTo(0.2054832, 6);
  });

  it('gives p = 0.05 exactly at the 97.5% quantile of its own degrees of freedom', () => {
    // Both samples have variance 2 and n = 2: standard error sqrt(2), df = 2.
    const shift = Math.SQRT2 * studentTQuantile(0.975, 2);
    const test = welchTTest([shift - 1, shift + 1], [-1, 1]);
    expect(test.df).toBeCloseTo(2, 12);
    expect(test.p).toBeCloseTo(0.05, 12);
  });

  it('is symmetric in its samples but for the sign of t', () => {
    const ab = welchTTest([1, 2, 3, 4], [2, 4, 6, 8, 10]);
    const ba = welchTTest([2, 4, 6, 8, 10], [1, 2, 3, 4]);
    expect(ba.t).toBeCloseTo(-ab.t, 14);
    expect(ba.df).toBeCloseTo(ab.df, 14);
    expect(ba.p).toBeCloseTo(ab.p, 14);
  });

  it('reduces to n - 1 degrees of freedom when one sample is constant', () => {
    expect(welchTTest([5, 5, 5], [1, 2, 3, 4, 6]).df).toBeCloseTo(4, 12);
  });

  it('is certain about a difference between two constant samples', () => {
    expect(welchTTest([3, 3], [3, 3, 3])).toEqual({ t: 0, df: 3, p: 1 });
    expect(welchTTest([3, 3], [4, 4, 4])).toEqual({ t: -Infinity, df: 3, p: 0 });
  });
});

describe('ratioOfMeansInterval', () => {
  const candidate = [105, 98, 110, 102, 107, 99];
  const baseline = [90, 95, 88, 93, 91];

  it('contains the ratio of the means, asymmetrically', () => {
    const interval = ratioOfMeansInterval(candidate, baseline);
    const ratio = mean(candidate) / mean(baseline);
    expect(interval).not.toBeNull();
    expect(interval!.low).toBeLessThan(ratio);
    expect(interval!.high).toBeGreaterThan(ratio);
    expect(interval!.high - ratio).toBeGreaterThan(ratio - interval!.low);
  });

  it("puts Fieller's test statistic exactly at the critical value on both ends", () => {
    const interval = ratioOfMeansInterval(candidate, baseline)!;
    const vn = sampleVariance(candidate) / candidate.length;
    const vd = sampleVariance(baseline) / baseline.length;
    const ratio = mean(candidate) / mean(baseline);
    const spread = vn + ratio * ratio * vd;
    const df =
      spread ** 2 / (vn ** 2 / (candidate.length - 1) + (ratio ** 4 * vd ** 2) / (baseline.length - 1));
    const critical = studentTQuantile(0.975, df);
    for (const r of [interval.low, interval.high]) {
      const statistic = Math.abs(mean(candidate) - r * mean(baseline)) / Math.sqrt(vn + r * r * vd);
      expect(statistic).toBeCloseTo(critical, 10);
    }
  });

  it("reduces to the numerator's t interval scaled by the denominator when that is exact", () => {
    const interval = ratioOfMeansInterval(candidate, [50, 50, 50])!;
    const half =
      (studentTQuantile(0.975, candidate.length - 1) * standardDeviation(candidate)!) /
      Math.sqrt(candidate.length);
    expect(interval.low).toBeCloseTo((mean(candidate) - half) / 50, 12);
    expect(interval.high).toBeCloseTo((mean(candidate) + half) / 50, 12);
  });

  it('widens with the confidence level', () => {
    const narrow = ratioOfMeansInterval(candidate, baseline, 0.8)!;
    const wide = ratioOfMeansInterval(candidate, baseline, 0.99)!;
    expect(wide.low).toBeLessThan(narrow.low);
    expect(wide.high).toBeGreaterThan(narrow.high);
  });

  it('is a point for constant samples and unbounded when the baseline may be zero', () => {
    expect(ratioOfMeansInterval([6, 6], [3, 3])).toEqual({ low: 2, high: 2 });
    expect(ratioOfMeansInterval(candidate, [-1, 1, 0.5])).toBeNull();
    expect(ratioOfMeansInterval(candidate, [0, 0])).toBeNull();
  });

  it('refuses a confidence outside (0, 1)', () => {
    expect(() => ratioOfMeansInterval(candidate, baseline, 1)).toThrow(RangeError);
  });
});

describe('percentile', () => {
  it('interpolates between order statistics as R and NumPy do by default', () => {
    // R: quantile(c(15, 20, 35, 40, 50), c(0, .3, .5, .99, 1)) gives 15 23 35 49.6 50
    const xs = [50, 15, 40, 20, 35];
    expect(percentile(xs, 0)).toBe(15);
    expect(percentile(xs, 30)).toBeCloseTo(23, 12);
    expect(percentile(xs, 50)).toBe(35);
    expect(percentile(xs, 99)).toBeCloseTo(49.6, 12);
    expect(percentile(xs, 100)).toBe(50);
    expect(percentile([1, 2], 50)).toBe(1.5);
    expect(percentile([7], 99)).toBe(7);
  });

  it('leaves its input unsorted', () => {
    const xs = [3, 1, 2];
    percentile(xs, 50);
    expect(xs).toEqual([3, 1, 2]);
  });

  it('refuses an empty sample and a p outside [0, 100]', () => {
    expect(() => percentile([], 50)).toThrow('empty');
    expect(() => percentile([1], 101)).toThrow('[0, 100]');
    expect(() => percentile([1], Number.NaN)).toThrow('[0, 100]');
  });
});
