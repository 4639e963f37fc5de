import {
  BENCHMARKS,
  DEFAULTS,
  type MemoryConfig,
  memoryArguments,
  parseCompareArguments,
  parseMemoryArguments,
  parseRunArguments,
  parseThroughputArguments,
  type ThroughputConfig,
  throughputArguments,
  UsageError,
} from './arguments';

describe('parseRunArguments', () => {
  it('runs everything with the defaults when given nothing', () => {
    expect(parseRunArguments([])).toEqual({
      benchmarks: BENCHMARKS,
      detectors: undefined,
      runs: DEFAULTS.runs,
      points: DEFAULTS.points,
      series: DEFAULTS.series,
      seriesCount: DEFAULTS.seriesCount,
      warmPoints: DEFAULTS.warmPoints,
      data: undefined,
      help: false,
    });
  });

  it('reads every option, in both --flag value and --flag=value forms', () => {
    const options = parseRunArguments([
      '--only',
      'memory',
      '--detectors=ewma, robust-zscore,ewma',
      '--runs',
      '3',
      '--points=1e5',
      '--series',
      '10',
      '--series-count',
      '2000',
      '--warm-points',
      '0',
      '--data',
      'data/nyc_taxi.csv',
    ]);
    expect(options).toEqual({
      benchmarks: ['memory'],
      detectors: ['ewma', 'robust-zscore'],
      runs: 3,
      points: 100_000,
      series: 10,
      seriesCount: 2000,
      warmPoints: 0,
      data: 'data/nyc_taxi.csv',
      help: false,
    });
  });

  it('recognises --help and -h', () => {
    expect(parseRunArguments(['--help']).help).toBe(true);
    expect(parseRunArguments(['-h']).help).toBe(true);
  });

  it.each([
    [['--runs', '0'], "--runs must be an integer >= 1, got '0'"],
    [['--points', '1.5'], "--points must be an integer >= 1, got '1.5'"],
    [['--series', '-3'], '--series'],
    [['--warm-points', 'lots'], "--warm-points must be an integer >= 0, got 'lots'"],
    [['--series-count', ''], '--series-count'],
    [['--points', '1e30'], '--points'],
    [['--only', 'latency'], "--only must be one of throughput, memory, got 'latency'"],
    [['--detectors', 'ewma,,spike'], '--detectors has an empty name'],
    [['--frobnicate'], 'frobnicate'],
    [['--runs'], 'runs'],
    [['stray'], 'stray'],
  ])('refuses %j, naming the flag', (argv, message) => {
    expect(() => parseRunArguments(argv)).toThrow(UsageError);
    expect(() => parseRunArguments(argv)).toThrow(message);
  });
});

describe('child arguments', () => {
  it('round-trips a throughput configuration through its command line', () => {
    const config: ThroughputConfig = {
      detector: 'ewma',
      series: 1000,
      points: 250_000,
      runs: 7,
      warmPoints: 900,
      data: 'a b.csv',
    };
    expect(parseThroughputArguments(throughputArguments(config))).toEqual(config);
    const synthetic = { ...config, data: undefined };
    expect(parseThroughputArguments(throughputArguments(synthetic))).toEqual(synthetic);
  });

  it('round-trips a memory configuration through its command line', () => {
    const config: MemoryConfig = {
      detector: 'spike',
      seriesCount: 100_000,
      warmPoints: 1200,
      data: undefined,
    };
    expect(parseMemoryArguments(memoryArguments(config))).toEqual(config);
  });

  it('needs a detector and refuses the runner-only flags', () => {
    expect(() => parseThroughputArguments(['--series', '3'])).toThrow('--detector is required');
    expect(() => parseMemoryArguments(['--detector', 'ewma', '--runs', '3'])).toThrow(UsageError);
  });
});

describe('parseCompareArguments', () => {
  it('takes exactly two result files, baseline first', () => {
    expect(parseCompareArguments(['old.jsonl', 'new.jsonl'])).toEqual({
      baseline: 'old.jsonl',
      candidate: 'new.jsonl',
    });
    expect(() => parseCompareArguments(['old.jsonl'])).toThrow('expected two result files, got 1');
    expect(() => parseCompareArguments(['a', 'b', 'c'])).toThrow(UsageError);
    expect(() => parseCompareArguments(['a', 'b', '--verbose'])).toThrow(UsageError);
  });
});
