import { componentShares, overheadOrder, overheadShare, summarizeOverhead } from './overhead';
import { figure, type ComparableResult } from './result';

function line(arm: string, pointsPerSecond: number[], extra: Record<string, number> = {}): ComparableResult {
  return {
    benchmark: 'overhead',
    detector: 'ensemble',
    params: { arm, points: 1000, series: 10, requestPoints: 1000 },
    figures: {
      pointsPerSecond: figure('points/s', pointsPerSecond),
      acceptedPointsPerSecond: figure(
        'points/s',
        pointsPerSecond.map((x) => 2 * x),
      ),
      ...Object.fromEntries(Object.entries(extra).map(([name, value]) => [name, figure('ns', [value])])),
    },
  };
}

describe('overheadOrder', () => {
  it('interleaves the arms, alternating which goes first in a pair', () => {
    expect(overheadOrder(3)).toEqual(['guarded', 'bare', 'bare', 'guarded', 'guarded', 'bare']);
  });

  it('refuses a count of pairs that is not a positive integer', () => {
    expect(() => overheadOrder(0)).toThrow('pairs must be a positive integer, got 0');
    expect(() => overheadOrder(1.5)).toThrow(RangeError);
  });
});

describe('overheadShare', () => {
  it('passes when the whole interval lies under the target', () => {
    // About 1% slower, with a spread of a few hundred points/s on 100k.
    const result = overheadShare([99_000, 98_800, 99_200, 99_100], [100_000, 100_200, 99_800, 100_100]);
    expect(result.share).toBeCloseTo(1 - 99_025 / 100_025, 10);
    expect(result.interval!.low).toBeLessThan(result.share);
    expect(result.interval!.high).toBeGreaterThan(result.share);
    expect(result.interval!.high).toBeLessThan(0.05);
    expect(result.p).toBeLessThan(0.01);
    expect(result.verdict).toBe('pass');
  });

  it('fails when the whole interval lies over the target', () => {
    const result = overheadShare([80_000, 80_500, 79_500], [100_000, 100_500, 99_500]);
    expect(result.share).toBeCloseTo(0.2, 10);
    expect(result.interval!.low).toBeGreaterThan(0.05);
    expect(result.verdict).toBe('fail');
  });

  it('is inconclusive when the interval straddles the target', () => {
    const result = overheadShare([90_000, 100_000, 96_000], [100_000, 98_000, 102_000]);
    expect(result.interval!.low).toBeLessThan(0.05);
    expect(result.interval!.high).toBeGreaterThan(0.05);
    expect(result.verdict).toBe('inconclusive');
  });

  it('reports a negative share when the guarded arm ran faster: noise, and a pass if narrow', () => {
    const result = overheadShare([100_100, 100_200, 100_000], [100_000, 99_900, 100_100]);
    expect(result.share).toBeLessThan(0);
    expect(result.verdict).toBe('pass');
  });

  it('is inconclusive when the baseline cannot be told from zero (unbounded interval)', () => {
    const result = overheadShare([1, 2, 3], [-5, 0, 6]);
    expect(result.interval).toBeNull();
    expect(result.verdict).toBe('inconclusive');
  });

  it('takes the target it is given', () => {
    const samples = [
      [97_000, 97_100, 96_900],
      [100_000, 100_100, 99_900],
    ] as const;
    expect(overheadShare(samples[0], samples[1]).verdict).toBe('pass');
    expect(overheadShare(samples[0], samples[1], 0.01).verdict).toBe('fail');
  });

  it('needs two samples on each side', () => {
    expect(() => overheadShare([1], [1, 2])).toThrow('each arm needs at least 2 samples, got 1 and 2');
  });
});

describe('componentShares', () => {
  it('spreads per-request costs over the request and divides by the path cost per point', () => {
    const shares = componentShares(
      {
        authNsPerRequest: 2000,
        admitNsPerRequest: 500,
        seriesBudgetNsPerPoint: 10,
        tallyNsPerPoint: 20,
        usageWriteNsPerPoint: 62.5,
      },
      1000,
      // 5,000 ns a point.
      200_000,
    );
    expect(shares.nsPerPoint.authNsPerRequest).toBe(2);
    expect(shares.nsPerPoint.admitNsPerRequest).toBe(0.5);
    // (2 + 0.5 + 10 + 20 + 62.5) / 5000
    expect(shares.share).toBeCloseTo(0.019, 12);
  });

  it('refuses a path rate or request size that is not positive', () => {
    const zero = {
      authNsPerRequest: 0,
      admitNsPerRequest: 0,
      seriesBudgetNsPerPoint: 0,
      tallyNsPerPoint: 0,
      usageWriteNsPerPoint: 0,
    };
    expect(() => componentShares(zero, 0, 1)).toThrow('requestPoints');
    expect(() => componentShares(zero, 1000, Number.NaN)).toThrow('pathPointsPerSecond');
  });
});

describe('summarizeOverhead', () => {
  const costs = {
    authNsPerRequest: 3000,
    admitNsPerRequest: 300,
    seriesBudgetNsPerPoint: 18,
    tallyNsPerPoint: 40,
    usageWriteNsPerPoint: 80,
  };

  it('takes one sample per process, the mean of its runs, and judges the whole path', () => {
    const summary = summarizeOverhead([
      line('guarded', [97_000, 97_200], costs),
      line('bare', [100_000, 100_200]),
      line('bare', [99_800, 100_000]),
      line('guarded', [96_800, 97_000], { ...costs, tallyNsPerPoint: 60 }),
      { ...line('bare', [1]), benchmark: 'embedded' },
    ]);
    expect(summary.samples).toEqual({ guarded: [97_100, 96_900], bare: [100_100, 99_900] });
    expect(summary.path.share).toBeCloseTo(0.03, 10);
    expect(summary.verdict).toBe(summary.path.verdict);
    // Accepted scales with stored here, so its share is the path's.
    expect(summary.accepted.share).toBeCloseTo(0.03, 10);
    // Median of 40 and 60; per-request costs over 1000 points.
    expect(summary.components!.nsPerPoint.tallyNsPerPoint).toBe(50);
    expect(summary.components!.nsPerPoint.authNsPerRequest).toBe(3);
    expect(summary.components!.share).toBeCloseTo((3 + 0.3 + 18 + 50 + 80) / (1e9 / 97_000), 10);
  });

  it('has no component estimate when no guarded process measured them', () => {
    const summary = summarizeOverhead([
      line('guarded', [97_000]),
      line('guarded', [97_100]),
      line('bare', [100_000]),
      line('bare', [100_100]),
    ]);
    expect(summary.components).toBeNull();
  });

  it('needs two processes of each arm', () => {
    expect(() => summarizeOverhead([line('guarded', [1, 2]), line('bare', [1]), line('bare', [2])])).toThrow(
      'each arm needs at least 2 samples, got 1 and 2',
    );
  });
});
