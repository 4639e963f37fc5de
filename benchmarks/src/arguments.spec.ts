import {
  type AlertLatencyConfig,
  alertLatencyArguments,
  DEFAULTS,
  type DispatcherConfig,
  dispatcherArguments,
  type EngineConfig,
  engineArguments,
  type MemoryConfig,
  memoryArguments,
  type OverheadConfig,
  overheadArguments,
  parseAlertLatencyArguments,
  parseCompareArguments,
  parseDispatcherArguments,
  parseEngineArguments,
  parseMemoryArguments,
  parseOverheadArguments,
  parseRunArguments,
  parseServerArguments,
  parseThroughputArguments,
  parseTriageArguments,
  type ServerConfig,
  serverArguments,
  SUITES,
  type ThroughputConfig,
  throughputArguments,
  type TriageConfig,
  triageArguments,
  UsageError,
} from './arguments';

const PIPELINE_DEFAULTS = {
  pipelinePoints: DEFAULTS.pipelinePoints,
  pipelineSeries: DEFAULTS.pipelineSeries,
  requestPoints: DEFAULTS.requestPoints,
  concurrency: DEFAULTS.concurrency,
  latencyRate: DEFAULTS.latencyRate,
  latencySeconds: DEFAULTS.latencySeconds,
  overheadPairs: DEFAULTS.overheadPairs,
  overheadRuns: DEFAULTS.overheadRuns,
  overheadPoints: DEFAULTS.overheadPoints,
  deliveries: DEFAULTS.deliveries,
  subscriptions: DEFAULTS.subscriptions,
  enqueueBatches: DEFAULTS.enqueueBatches,
  alertRate: DEFAULTS.alertRate,
  alertSeconds: DEFAULTS.alertSeconds,
  alertSeries: DEFAULTS.alertSeries,
  triagePairs: DEFAULTS.triagePairs,
  triageRuns: DEFAULTS.triageRuns,
  triagePoints: DEFAULTS.triagePoints,
  triageSpikeEvery: DEFAULTS.triageSpikeEvery,
};

describe('parseRunArguments', () => {
  it('runs the detector suite with the defaults when given nothing', () => {
    expect(parseRunArguments([])).toEqual({
      benchmarks: ['throughput', 'memory'],
      detectors: undefined,
      runs: DEFAULTS.runs,
      points: DEFAULTS.points,
      series: DEFAULTS.series,
      seriesCount: DEFAULTS.seriesCount,
      warmPoints: DEFAULTS.warmPoints,
      data: undefined,
      ...PIPELINE_DEFAULTS,
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
      ...PIPELINE_DEFAULTS,
      help: false,
    });
  });

  it('picks a suite, or one benchmark of any suite', () => {
    expect(parseRunArguments(['--suite', 'pipeline']).benchmarks).toEqual(SUITES.pipeline);
    expect(parseRunArguments(['--suite=all']).benchmarks).toEqual([
      'throughput',
      'memory',
      'series-memory',
      'engine',
      'embedded',
      'end-to-end',
      'overhead',
      'dispatcher',
      'alert-latency',
      'triage',
    ]);
    expect(parseRunArguments(['--suite', 'overhead']).benchmarks).toEqual(['overhead']);
    expect(parseRunArguments(['--suite', 'triage']).benchmarks).toEqual(['triage']);
    expect(parseRunArguments(['--suite', 'alerting']).benchmarks).toEqual(['dispatcher', 'alert-latency']);
    expect(parseRunArguments(['--only', 'end-to-end']).benchmarks).toEqual(['end-to-end']);
    expect(parseRunArguments(['--only', 'dispatcher']).benchmarks).toEqual(['dispatcher']);
    expect(parseRunArguments(['--only=alert-latency']).benchmarks).toEqual(['alert-latency']);
  });

  it('reads the pipeline options', () => {
    const options = parseRunArguments([
      '--pipeline-points=1e5',
      '--pipeline-series',
      '500',
      '--request-points',
      '1000',
      '--concurrency',
      '8',
      '--latency-rate',
      '20000',
      '--latency-seconds',
      '0',
    ]);
    expect(options).toMatchObject({
      pipelinePoints: 100_000,
      pipelineSeries: 500,
      requestPoints: 1000,
      concurrency: 8,
      latencyRate: 20_000,
      latencySeconds: 0,
    });
  });

  it('reads the overhead options', () => {
    expect(
      parseRunArguments(['--overhead-pairs', '4', '--overhead-runs=3', '--overhead-points', '5e4']),
    ).toMatchObject({ overheadPairs: 4, overheadRuns: 3, overheadPoints: 50_000 });
  });

  it('reads the alerting options, each enqueue batch size once', () => {
    expect(
      parseRunArguments([
        '--deliveries',
        '5e3',
        '--subscriptions=3',
        '--enqueue-batches',
        '10, 1,10',
        '--alert-rate',
        '20000',
        '--alert-seconds=30',
        '--alert-series',
        '500',
      ]),
    ).toMatchObject({
      deliveries: 5000,
      subscriptions: 3,
      enqueueBatches: [10, 1],
      alertRate: 20_000,
      alertSeconds: 30,
      alertSeries: 500,
    });
  });

  it('reads the triage options', () => {
    expect(
      parseRunArguments([
        '--triage-pairs',
        '3',
        '--triage-runs=2',
        '--triage-points',
        '1e5',
        '--triage-spike-every',
        '500',
      ]),
    ).toMatchObject({ triagePairs: 3, triageRuns: 2, triagePoints: 100_000, triageSpikeEvery: 500 });
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
    [
      ['--only', 'latency'],
      "--only must be one of throughput, memory, series-memory, engine, embedded, end-to-end, overhead, dispatcher, alert-latency, triage, got 'latency'",
    ],
    [
      ['--suite', 'fast'],
      "--suite must be one of detectors, pipeline, overhead, alerting, triage, all, got 'fast'",
    ],
    // One process per arm would leave no spread to build a confidence interval from.
    [['--overhead-pairs', '1'], "--overhead-pairs must be an integer >= 2, got '1'"],
    [['--overhead-runs', '0'], '--overhead-runs'],
    [['--triage-pairs', '1'], "--triage-pairs must be an integer >= 2, got '1'"],
    [['--triage-spike-every', '0'], '--triage-spike-every'],
    [['--suite', 'pipeline', '--only', 'engine'], '--only and --suite exclude each other'],
    [['--concurrency', '0'], "--concurrency must be an integer >= 1, got '0'"],
    [['--latency-rate', '-5'], '--latency-rate'],
    [['--enqueue-batches', '100,,1'], "--enqueue-batches must be an integer >= 1, got ''"],
    [['--enqueue-batches', '0'], '--enqueue-batches'],
    [['--alert-seconds', '0'], "--alert-seconds must be an integer >= 1, got '0'"],
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

  it('round-trips an engine configuration through its command line', () => {
    const config: EngineConfig = { points: 2_000_000, series: 10_000, requestPoints: 5000 };
    expect(parseEngineArguments(engineArguments(config))).toEqual(config);
  });

  it('round-trips a server configuration through its command line, in both modes', () => {
    const config: ServerConfig = {
      mode: 'kafka',
      points: 1_000_000,
      series: 5000,
      requestPoints: 2000,
      concurrency: 6,
      latencyRate: 40_000,
      latencySeconds: 0,
    };
    expect(parseServerArguments(serverArguments(config))).toEqual(config);
    const embedded = { ...config, mode: 'embedded' as const };
    expect(parseServerArguments(serverArguments(embedded))).toEqual(embedded);
    expect(() => parseServerArguments(['--points', '5'])).toThrow('--mode must be one of embedded, kafka');
  });

  it('round-trips an overhead configuration through its command line, in both arms', () => {
    const config: OverheadConfig = {
      arm: 'guarded',
      points: 50_000,
      series: 2000,
      requestPoints: 500,
      runs: 3,
    };
    expect(parseOverheadArguments(overheadArguments(config))).toEqual(config);
    const bare = { ...config, arm: 'bare' as const };
    expect(parseOverheadArguments(overheadArguments(bare))).toEqual(bare);
    expect(parseOverheadArguments(['--arm', 'bare'])).toEqual({
      arm: 'bare',
      points: DEFAULTS.overheadPoints,
      series: DEFAULTS.pipelineSeries,
      requestPoints: DEFAULTS.overheadRequestPoints,
      runs: DEFAULTS.overheadRuns,
    });
    expect(() => parseOverheadArguments(['--arm', 'off'])).toThrow('--arm must be one of guarded, bare');
  });

  it('round-trips a triage configuration through its command line, in both arms', () => {
    const config: TriageConfig = { arm: 'on', points: 50_000, runs: 2, series: 500, spikeEvery: 250 };
    expect(parseTriageArguments(triageArguments(config))).toEqual(config);
    const off = { ...config, arm: 'off' as const };
    expect(parseTriageArguments(triageArguments(off))).toEqual(off);
    expect(parseTriageArguments(['--arm', 'off'])).toEqual({
      arm: 'off',
      points: DEFAULTS.triagePoints,
      runs: DEFAULTS.triageRuns,
      series: DEFAULTS.triageSeries,
      spikeEvery: DEFAULTS.triageSpikeEvery,
    });
    expect(() => parseTriageArguments(['--arm', 'bare'])).toThrow('--arm must be one of off, on');
  });

  it('round-trips a dispatcher configuration through its command line', () => {
    const config: DispatcherConfig = { deliveries: 5000, subscriptions: 3, enqueueBatch: 25 };
    expect(parseDispatcherArguments(dispatcherArguments(config))).toEqual(config);
    expect(parseDispatcherArguments([])).toEqual({
      deliveries: DEFAULTS.deliveries,
      subscriptions: DEFAULTS.subscriptions,
      enqueueBatch: DEFAULTS.enqueueBatches[0],
    });
  });

  it('round-trips an alert-latency configuration through its command line', () => {
    const config: AlertLatencyConfig = { rate: 20_000, seconds: 30, series: 500 };
    expect(parseAlertLatencyArguments(alertLatencyArguments(config))).toEqual(config);
    expect(() => parseAlertLatencyArguments(['--deliveries', '5'])).toThrow(UsageError);
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
