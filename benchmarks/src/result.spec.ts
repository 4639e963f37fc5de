import { figure, latencyFigures, parseResultLine, resultKey } from './result';

describe('figure', () => {
  it('summarises runs by their mean and sample standard deviation', () => {
    expect(figure('points/s', [1, 3])).toEqual({
      unit: 'points/s',
      mean: 2,
      stddev: Math.SQRT2,
      runs: [1, 3],
    });
    expect(figure('bytes', [212])).toEqual({ unit: 'bytes', mean: 212, stddev: null, runs: [212] });
  });
});

describe('latencyFigures', () => {
  it('names p50, p95, p99 and max of a sample, in milliseconds, whatever its order', () => {
    // 1..101 shuffled: the p-th percentile of 1..101 is p + 1 exactly.
    const sample = Array.from({ length: 101 }, (_, i) => ((i * 37) % 101) + 1);
    expect(latencyFigures('alert', sample)).toEqual({
      alertP50Ms: figure('ms', [51]),
      alertP95Ms: figure('ms', [96]),
      alertP99Ms: figure('ms', [100]),
      alertMaxMs: figure('ms', [101]),
    });
  });

  it('interpolates between the two nearest values of a small sample', () => {
    expect(latencyFigures('receipt', [10, 20]).receiptP50Ms.mean).toBe(15);
    expect(latencyFigures('receipt', [10, 20]).receiptP99Ms.mean).toBeCloseTo(19.9, 10);
  });

  it('has no figures for an empty sample', () => {
    expect(latencyFigures('alert', [])).toEqual({});
  });
});

describe('resultKey', () => {
  it('ignores the order of params but not their values', () => {
    const a = { benchmark: 'throughput', detector: 'ewma', params: { series: 1, points: 10 } };
    expect(resultKey({ ...a, params: { points: 10, series: 1 } })).toBe(resultKey(a));
    expect(resultKey({ ...a, params: { series: 1000, points: 10 } })).not.toBe(resultKey(a));
    expect(resultKey({ ...a, detector: 'spike' })).not.toBe(resultKey(a));
  });
});

describe('parseResultLine', () => {
  const line = {
    benchmark: 'throughput',
    detector: 'ewma',
    params: { series: 1 },
    figures: { pointsPerSecond: { unit: 'points/s', mean: 0, stddev: 0, runs: [10, 20, 30] } },
    runs: 3,
    machine: { cpu: 'x' },
  };

  it('reads a line and recomputes the summary from the runs', () => {
    expect(parseResultLine(JSON.stringify(line), 'a.jsonl:1')).toEqual({
      benchmark: 'throughput',
      detector: 'ewma',
      params: { series: 1 },
      figures: { pointsPerSecond: { unit: 'points/s', mean: 20, stddev: 10, runs: [10, 20, 30] } },
    });
  });

  it.each([
    ['{"benchmark":', 'a.jsonl:4: not a JSON line'],
    ['[1]', 'a.jsonl:4: not a JSON object'],
    [JSON.stringify({ ...line, detector: 7 }), "a.jsonl:4: 'detector' must be a string"],
    [JSON.stringify({ ...line, params: null }), "a.jsonl:4: 'params' must be an object"],
    [JSON.stringify({ ...line, figures: { f: { runs: [1] } } }), "a.jsonl:4: figure 'f' needs a 'unit'"],
    [JSON.stringify({ ...line, figures: { f: { unit: 'b', runs: [] } } }), "figure 'f' needs 'runs'"],
    [JSON.stringify({ ...line, figures: { f: { unit: 'b', runs: [1, '2'] } } }), "figure 'f' needs 'runs'"],
  ])('refuses %s, naming the line', (text, message) => {
    expect(() => parseResultLine(text, 'a.jsonl:4')).toThrow(message);
  });
});
