import { compareResults, formatReport } from './compare';
import { type ComparableResult, figure } from './result';

function throughput(series: number, runs: number[], extra: Record<string, number> = {}): ComparableResult {
  return {
    benchmark: 'throughput',
    detector: 'ewma',
    params: { series, points: 1000, ...extra },
    figures: { pointsPerSecond: figure('points/s', runs) },
  };
}

function memory(bytes: number): ComparableResult {
  return {
    benchmark: 'memory',
    detector: 'ewma',
    params: { series: 100_000 },
    figures: { bytesPerSeries: figure('bytes', [bytes]), snapshotBytesPerSeries: figure('bytes', [160]) },
  };
}

describe('compareResults', () => {
  it('pairs configurations by benchmark, detector and params, whatever order the params were written in', () => {
    const reordered: ComparableResult = {
      ...throughput(1, [110, 112, 108]),
      params: { points: 1000, series: 1 },
    };
    const report = compareResults(
      [throughput(1, [100, 101, 99]), throughput(1000, [50, 52, 51])],
      [reordered],
    );
    expect(report.comparisons).toHaveLength(1);
    expect(report.comparisons[0]).toMatchObject({
      figure: 'pointsPerSecond',
      unit: 'points/s',
      params: { series: 1 },
    });
    expect(report.unmatched).toEqual(['only in baseline: throughput ewma series=1000 points=1000']);
  });

  it('reports the candidate over the baseline, with an interval and p-value that say which is faster', () => {
    const [c] = compareResults(
      [throughput(1, [100, 101, 99, 100])],
      [throughput(1, [120, 122, 118, 121])],
    ).comparisons;
    expect(c.ratio).toBeCloseTo(120.25 / 100, 12);
    expect(c.interval!.low).toBeGreaterThan(1);
    expect(c.interval!.high).toBeLessThan(1.3);
    expect(c.p).toBeLessThan(0.001);
  });

  it('finds no difference between two samples of the same noise', () => {
    const [c] = compareResults(
      [throughput(1, [100, 104, 98, 101])],
      [throughput(1, [101, 98, 104, 100])],
    ).comparisons;
    expect(c.ratio).toBeCloseTo(1, 12);
    expect(c.p).toBeCloseTo(1, 12);
    expect(c.interval!.low).toBeLessThan(1);
    expect(c.interval!.high).toBeGreaterThan(1);
  });

  it('pools the runs of every line with the same configuration', () => {
    const report = compareResults(
      [throughput(1, [100, 102]), throughput(1, [98])],
      [throughput(1, [90, 91]), throughput(1, [92, 89, 93])],
    );
    const [c] = report.comparisons;
    expect(c.baseline).toEqual([100, 102, 98]);
    expect(c.candidate).toEqual([90, 91, 92, 89, 93]);
    expect(c.ratio).toBeCloseTo(91 / 100, 12);
  });

  it('gives the ratio alone where a side has a single run, and a test once pooled lines have more', () => {
    const single = compareResults([memory(240)], [memory(180)]).comparisons;
    expect(single.map((c) => [c.figure, c.ratio, c.interval, c.p])).toEqual([
      ['bytesPerSeries', 0.75, null, null],
      ['snapshotBytesPerSeries', 1, null, null],
    ]);
    const pooled = compareResults([memory(240), memory(240)], [memory(180), memory(180)]).comparisons;
    expect(pooled[0]).toMatchObject({ ratio: 0.75, interval: { low: 0.75, high: 0.75 }, p: 0 });
  });

  it('names figures present on one side only, and figures whose units disagree', () => {
    const baseline = memory(240);
    const candidate: ComparableResult = {
      ...memory(200),
      figures: { bytesPerSeries: figure('kB', [0.2]), heapBytesPerSeries: figure('bytes', [150]) },
    };
    expect(compareResults([baseline], [candidate]).unmatched).toEqual([
      'memory ewma series=100000 bytesPerSeries: unit bytes vs kB',
      'only in baseline: memory ewma series=100000 snapshotBytesPerSeries',
      'only in candidate: memory ewma series=100000 heapBytesPerSeries',
    ]);
  });

  it('refuses a file whose lines disagree on a unit', () => {
    const kilobytes: ComparableResult = { ...memory(1), figures: { bytesPerSeries: figure('kB', [0.2]) } };
    expect(() => compareResults([memory(240), kilobytes], [])).toThrow(
      'baseline: memory ewma series=100000 bytesPerSeries is in bytes on one line and kB on another',
    );
  });
});

describe('formatReport', () => {
  it('prints the ratio, its interval, the p-value and its stars', () => {
    const report = compareResults(
      [throughput(1, [1e6, 1.01e6, 0.99e6]), memory(240)],
      [throughput(1, [1.5e6, 1.52e6, 1.49e6]), memory(180)],
    );
    const text = formatReport(report);
    const c = report.comparisons[0];
    expect(text).toContain('1M points/s');
    expect(text).toContain('1.5M points/s');
    expect(text).toContain(`[${c.interval!.low.toFixed(3)}, ${c.interval!.high.toFixed(3)}]`);
    expect(text).toMatch(/1\.503 .* <0\.001 +\*\*\* +3\/3/);
    expect(text).toMatch(/bytesPerSeries +240 bytes +180 bytes +0\.750 +— +— +1\/1/);
  });
});
