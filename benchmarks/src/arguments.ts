import { parseArgs } from 'node:util';
import { OVERHEAD_ARMS, type OverheadArm } from './overhead';
import { TRIAGE_ARMS, type TriageArm } from './triage';

/**
 * Command lines of the benchmark runner, of the child processes it forks, and of the
 * compare script. Children take the runner's flag names, so a child can be run by hand
 * (`node --expose-gc dist/benchmarks/src/memory.bench.js --detector ewma`) to debug it.
 */

export const BENCHMARKS = [
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
] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];

/**
 * Benchmarks by what they need: `detectors` is pure CPU and runs in minutes (the default),
 * `pipeline` starts Kafka, ClickHouse and the HTTP server, and takes longer.
 */
export const SUITES = {
  detectors: ['throughput', 'memory'],
  pipeline: ['series-memory', 'engine', 'embedded', 'end-to-end'],
  overhead: ['overhead'],
  alerting: ['dispatcher', 'alert-latency'],
  triage: ['triage'],
  all: BENCHMARKS,
} as const satisfies Record<string, readonly BenchmarkName[]>;
export type SuiteName = keyof typeof SUITES;

export const DEFAULTS = {
  suite: 'detectors',
  runs: 5,
  points: 1_000_000,
  series: 1000,
  seriesCount: 100_000,
  warmPoints: 1500,
  pipelinePoints: 2_000_000,
  pipelineSeries: 10_000,
  requestPoints: 5000,
  concurrency: 4,
  latencyRate: 50_000,
  latencySeconds: 20,
  overheadPairs: 10,
  overheadPoints: 200_000,
  overheadRuns: 5,
  overheadRequestPoints: 1000,
  deliveries: 20_000,
  subscriptions: 8,
  enqueueBatches: [100, 1],
  alertRate: 10_000,
  alertSeconds: 60,
  alertSeries: 1000,
  triagePairs: 6,
  triagePoints: 500_000,
  triageRuns: 3,
  triageSeries: 1000,
  triageSpikeEvery: 1000,
} as const;

export interface RunOptions {
  readonly benchmarks: readonly BenchmarkName[];
  /** Undefined: each benchmark's default (every registered kind, or the default detector). */
  readonly detectors: readonly string[] | undefined;
  readonly runs: number;
  readonly points: number;
  readonly series: number;
  readonly seriesCount: number;
  readonly warmPoints: number;
  /** A `timestamp,value` CSV to replay instead of the synthetic series. */
  readonly data: string | undefined;
  /** Points through the pipeline benchmarks (engine, embedded, end-to-end). */
  readonly pipelinePoints: number;
  /** Series those points are spread over. */
  readonly pipelineSeries: number;
  /** Points per HTTP request (and, split by partition, per Kafka message). */
  readonly requestPoints: number;
  /** HTTP requests in flight at once while pushing as fast as the server takes them. */
  readonly concurrency: number;
  /** Points/s of the paced load under which latency is measured. */
  readonly latencyRate: number;
  readonly latencySeconds: number;
  /** Processes of each arm of the overhead benchmark, run interleaved. */
  readonly overheadPairs: number;
  /** Points of each of its timed runs. */
  readonly overheadPoints: number;
  /** Timed runs in each of its processes. */
  readonly overheadRuns: number;
  /** Deliveries the dispatcher benchmark sends. */
  readonly deliveries: number;
  /** Subscriptions (receiver URLs) they go round-robin over. */
  readonly subscriptions: number;
  /** Deliveries per enqueue call: one dispatcher process for each. */
  readonly enqueueBatches: readonly number[];
  /** Points/s the alert-latency benchmark pushes. */
  readonly alertRate: number;
  readonly alertSeconds: number;
  /** Series of its steady load (the injected anomalies have series of their own). */
  readonly alertSeries: number;
  /** Processes of each arm of the triage benchmark, run interleaved. */
  readonly triagePairs: number;
  /** Points of each of its timed runs. */
  readonly triagePoints: number;
  /** Timed runs in each of its processes. */
  readonly triageRuns: number;
  /** One point in this many is a spike. */
  readonly triageSpikeEvery: number;
  readonly help: boolean;
}

export interface ThroughputConfig {
  readonly detector: string;
  /** Points go round-robin over this many series, each with its own detector. */
  readonly series: number;
  /** Points per timed run, over all series. */
  readonly points: number;
  readonly runs: number;
  /** Points each series sees before anything is timed. */
  readonly warmPoints: number;
  readonly data: string | undefined;
}

export interface MemoryConfig {
  readonly detector: string;
  readonly seriesCount: number;
  readonly warmPoints: number;
  readonly data: string | undefined;
}

/** The pipeline workload: what `engine`, `embedded` and `end-to-end` push through. */
export interface PipelineLoad {
  readonly points: number;
  readonly series: number;
  readonly requestPoints: number;
}

export type EngineConfig = PipelineLoad;

/** `embedded`: the in-process queue; `kafka`: HTTP ingest -> Kafka -> engine in one process. */
export const SERVER_MODES = ['embedded', 'kafka'] as const;
export type ServerMode = (typeof SERVER_MODES)[number];

export interface ServerConfig extends PipelineLoad {
  readonly mode: ServerMode;
  readonly concurrency: number;
  readonly latencyRate: number;
  /** 0 skips the latency phase. */
  readonly latencySeconds: number;
}

/** One process of the overhead benchmark: one arm, `runs` timed runs of `points` points. */
export interface OverheadConfig {
  readonly arm: OverheadArm;
  readonly points: number;
  readonly series: number;
  readonly requestPoints: number;
  readonly runs: number;
}

/** The dispatcher benchmark: `deliveries` over `subscriptions`, `enqueueBatch` per enqueue call. */
export interface DispatcherConfig {
  readonly deliveries: number;
  readonly subscriptions: number;
  readonly enqueueBatch: number;
}

/** The alert-latency benchmark: `rate` points/s over `series` series for `seconds`. */
export interface AlertLatencyConfig {
  readonly rate: number;
  readonly seconds: number;
  readonly series: number;
}

/** One process of the triage benchmark: one arm, `runs` timed runs of `points` points. */
export interface TriageConfig {
  readonly arm: TriageArm;
  readonly points: number;
  readonly runs: number;
  readonly series: number;
  /** One point in this many, past warm-up, is a spike. */
  readonly spikeEvery: number;
}

export interface CompareOptions {
  readonly baseline: string;
  readonly candidate: string;
}

/** A command line that cannot be run: the message names the flag. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const RUN_USAGE = `Usage: npm run bench -- [options]
  --suite detectors|pipeline|overhead|alerting|triage|all
                             which benchmarks (default ${DEFAULTS.suite}: throughput and memory of the
                             detectors; pipeline: series-memory, engine, embedded, end-to-end;
                             overhead: what auth, limits and metering cost of ingest, an A/B;
                             alerting: dispatcher, alert-latency;
                             triage: ingest with LLM triage on against off, an A/B)
  --only NAME                run one benchmark: ${BENCHMARKS.join(', ')}
  --detectors a,b            detector kinds (default: all for throughput, the default one for memory)
  --runs N                   timed runs per throughput configuration (default ${DEFAULTS.runs})
  --points N                 points per timed run (default ${DEFAULTS.points})
  --series K                 series for the many-series throughput run (default ${DEFAULTS.series})
  --series-count N           series held at once by the memory benchmark (default ${DEFAULTS.seriesCount})
  --warm-points N            points each series sees before measuring (default ${DEFAULTS.warmPoints})
  --data FILE.csv            replay a timestamp,value CSV instead of the synthetic series
pipeline benchmarks:
  --pipeline-points N        points pushed through (default ${DEFAULTS.pipelinePoints})
  --pipeline-series K        series they are spread over (default ${DEFAULTS.pipelineSeries})
  --request-points N         points per HTTP request and per produced request (default ${DEFAULTS.requestPoints})
  --concurrency N            HTTP requests in flight (default ${DEFAULTS.concurrency})
  --latency-rate N           points/s of the paced load latency is measured under (default ${DEFAULTS.latencyRate})
  --latency-seconds N        length of that phase, 0 to skip it (default ${DEFAULTS.latencySeconds})
overhead benchmark (series: --pipeline-series; ${DEFAULTS.overheadRequestPoints}-point requests):
  --overhead-pairs N         processes of each arm, interleaved (default ${DEFAULTS.overheadPairs})
  --overhead-runs N          timed runs per process (default ${DEFAULTS.overheadRuns})
  --overhead-points N        points per timed run (default ${DEFAULTS.overheadPoints})
dispatcher benchmark (the outbox on embedded ClickHouse, webhooks to 127.0.0.1):
  --deliveries N             deliveries sent (default ${DEFAULTS.deliveries})
  --subscriptions K          subscriptions they go round-robin over (default ${DEFAULTS.subscriptions})
  --enqueue-batches a,b      deliveries per enqueue call, one run each (default ${DEFAULTS.enqueueBatches.join(',')})
alert-latency benchmark (the embedded server, anomaly to webhook receipt):
  --alert-rate N             points/s pushed over HTTP (default ${DEFAULTS.alertRate})
  --alert-seconds N          how long (default ${DEFAULTS.alertSeconds})
  --alert-series K           series of the steady load (default ${DEFAULTS.alertSeries})
triage benchmark (the embedded server, a fake LLM answering in 2 s; ${DEFAULTS.triageSeries} series):
  --triage-pairs N           processes of each arm, interleaved (default ${DEFAULTS.triagePairs})
  --triage-runs N            timed runs per process (default ${DEFAULTS.triageRuns})
  --triage-points N          points per timed run (default ${DEFAULTS.triagePoints})
  --triage-spike-every N     one point in N is a spike (default ${DEFAULTS.triageSpikeEvery})`;

export const COMPARE_USAGE = 'Usage: npm run bench:compare -- baseline.jsonl candidate.jsonl';

export function parseRunArguments(argv: readonly string[]): RunOptions {
  const values = parseFlags(argv, {
    only: { type: 'string' },
    detectors: { type: 'string' },
    runs: { type: 'string' },
    points: { type: 'string' },
    series: { type: 'string' },
    'series-count': { type: 'string' },
    'warm-points': { type: 'string' },
    data: { type: 'string' },
    suite: { type: 'string' },
    'pipeline-points': { type: 'string' },
    'pipeline-series': { type: 'string' },
    'request-points': { type: 'string' },
    concurrency: { type: 'string' },
    'latency-rate': { type: 'string' },
    'latency-seconds': { type: 'string' },
    'overhead-pairs': { type: 'string' },
    'overhead-runs': { type: 'string' },
    'overhead-points': { type: 'string' },
    deliveries: { type: 'string' },
    subscriptions: { type: 'string' },
    'enqueue-batches': { type: 'string' },
    'alert-rate': { type: 'string' },
    'alert-seconds': { type: 'string' },
    'alert-series': { type: 'string' },
    'triage-pairs': { type: 'string' },
    'triage-runs': { type: 'string' },
    'triage-points': { type: 'string' },
    'triage-spike-every': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  const only = text(values, 'only');
  const suite = text(values, 'suite');
  const detectors = text(values, 'detectors');
  if (only !== undefined && suite !== undefined)
    throw new UsageError('--only and --suite exclude each other');
  return {
    benchmarks: only === undefined ? SUITES[suiteName(suite ?? DEFAULTS.suite)] : [benchmarkName(only)],
    detectors: detectors === undefined ? undefined : detectorList(detectors),
    runs: integer(values, 'runs', DEFAULTS.runs, 1),
    points: integer(values, 'points', DEFAULTS.points, 1),
    series: integer(values, 'series', DEFAULTS.series, 1),
    seriesCount: integer(values, 'series-count', DEFAULTS.seriesCount, 1),
    warmPoints: integer(values, 'warm-points', DEFAULTS.warmPoints, 0),
    data: filePath(values, 'data'),
    pipelinePoints: integer(values, 'pipeline-points', DEFAULTS.pipelinePoints, 1),
    pipelineSeries: integer(values, 'pipeline-series', DEFAULTS.pipelineSeries, 1),
    requestPoints: integer(values, 'request-points', DEFAULTS.requestPoints, 1),
    concurrency: integer(values, 'concurrency', DEFAULTS.concurrency, 1),
    latencyRate: integer(values, 'latency-rate', DEFAULTS.latencyRate, 1),
    latencySeconds: integer(values, 'latency-seconds', DEFAULTS.latencySeconds, 0),
    // Two samples per arm at least: the confidence interval needs a spread on each side.
    overheadPairs: integer(values, 'overhead-pairs', DEFAULTS.overheadPairs, 2),
    overheadRuns: integer(values, 'overhead-runs', DEFAULTS.overheadRuns, 1),
    overheadPoints: integer(values, 'overhead-points', DEFAULTS.overheadPoints, 1),
    deliveries: integer(values, 'deliveries', DEFAULTS.deliveries, 1),
    subscriptions: integer(values, 'subscriptions', DEFAULTS.subscriptions, 1),
    enqueueBatches: integerList(values, 'enqueue-batches', DEFAULTS.enqueueBatches, 1),
    alertRate: integer(values, 'alert-rate', DEFAULTS.alertRate, 1),
    alertSeconds: integer(values, 'alert-seconds', DEFAULTS.alertSeconds, 1),
    alertSeries: integer(values, 'alert-series', DEFAULTS.alertSeries, 1),
    // As for overhead: two samples per arm at least.
    triagePairs: integer(values, 'triage-pairs', DEFAULTS.triagePairs, 2),
    triageRuns: integer(values, 'triage-runs', DEFAULTS.triageRuns, 1),
    triagePoints: integer(values, 'triage-points', DEFAULTS.triagePoints, 1),
    triageSpikeEvery: integer(values, 'triage-spike-every', DEFAULTS.triageSpikeEvery, 1),
    help: values.help === true,
  };
}

export function parseThroughputArguments(argv: readonly string[]): ThroughputConfig {
  const values = parseFlags(argv, {
    detector: { type: 'string' },
    series: { type: 'string' },
    points: { type: 'string' },
    runs: { type: 'string' },
    'warm-points': { type: 'string' },
    data: { type: 'string' },
  });
  return {
    detector: requiredDetector(values),
    series: integer(values, 'series', 1, 1),
    points: integer(values, 'points', DEFAULTS.points, 1),
    runs: integer(values, 'runs', DEFAULTS.runs, 1),
    warmPoints: integer(values, 'warm-points', DEFAULTS.warmPoints, 0),
    data: filePath(values, 'data'),
  };
}

export function throughputArguments(config: ThroughputConfig): string[] {
  return [
    '--detector',
    config.detector,
    '--series',
    String(config.series),
    '--points',
    String(config.points),
    '--runs',
    String(config.runs),
    '--warm-points',
    String(config.warmPoints),
    ...(config.data === undefined ? [] : ['--data', config.data]),
  ];
}

export function parseMemoryArguments(argv: readonly string[]): MemoryConfig {
  const values = parseFlags(argv, {
    detector: { type: 'string' },
    'series-count': { type: 'string' },
    'warm-points': { type: 'string' },
    data: { type: 'string' },
  });
  return {
    detector: requiredDetector(values),
    seriesCount: integer(values, 'series-count', DEFAULTS.seriesCount, 1),
    warmPoints: integer(values, 'warm-points', DEFAULTS.warmPoints, 0),
    data: filePath(values, 'data'),
  };
}

export function memoryArguments(config: MemoryConfig): string[] {
  return [
    '--detector',
    config.detector,
    '--series-count',
    String(config.seriesCount),
    '--warm-points',
    String(config.warmPoints),
    ...(config.data === undefined ? [] : ['--data', config.data]),
  ];
}

export function parseEngineArguments(argv: readonly string[]): EngineConfig {
  return parseLoad(parseFlags(argv, LOAD_FLAGS));
}

export function engineArguments(config: EngineConfig): string[] {
  return loadArguments(config);
}

export function parseServerArguments(argv: readonly string[]): ServerConfig {
  const values = parseFlags(argv, {
    ...LOAD_FLAGS,
    mode: { type: 'string' },
    concurrency: { type: 'string' },
    'latency-rate': { type: 'string' },
    'latency-seconds': { type: 'string' },
  });
  const mode = SERVER_MODES.find((m) => m === values.mode);
  if (!mode) throw new UsageError(`--mode must be one of ${SERVER_MODES.join(', ')}`);
  return {
    mode,
    ...parseLoad(values),
    concurrency: integer(values, 'concurrency', DEFAULTS.concurrency, 1),
    latencyRate: integer(values, 'latency-rate', DEFAULTS.latencyRate, 1),
    latencySeconds: integer(values, 'latency-seconds', DEFAULTS.latencySeconds, 0),
  };
}

export function serverArguments(config: ServerConfig): string[] {
  return [
    '--mode',
    config.mode,
    ...loadArguments(config),
    '--concurrency',
    String(config.concurrency),
    '--latency-rate',
    String(config.latencyRate),
    '--latency-seconds',
    String(config.latencySeconds),
  ];
}

export function parseOverheadArguments(argv: readonly string[]): OverheadConfig {
  const values = parseFlags(argv, {
    arm: { type: 'string' },
    points: { type: 'string' },
    series: { type: 'string' },
    'request-points': { type: 'string' },
    runs: { type: 'string' },
  });
  const arm = OVERHEAD_ARMS.find((a) => a === values.arm);
  if (!arm) throw new UsageError(`--arm must be one of ${OVERHEAD_ARMS.join(', ')}`);
  return {
    arm,
    points: integer(values, 'points', DEFAULTS.overheadPoints, 1),
    series: integer(values, 'series', DEFAULTS.pipelineSeries, 1),
    requestPoints: integer(values, 'request-points', DEFAULTS.overheadRequestPoints, 1),
    runs: integer(values, 'runs', DEFAULTS.overheadRuns, 1),
  };
}

export function overheadArguments(config: OverheadConfig): string[] {
  return [
    '--arm',
    config.arm,
    '--points',
    String(config.points),
    '--series',
    String(config.series),
    '--request-points',
    String(config.requestPoints),
    '--runs',
    String(config.runs),
  ];
}

export function parseDispatcherArguments(argv: readonly string[]): DispatcherConfig {
  const values = parseFlags(argv, {
    deliveries: { type: 'string' },
    subscriptions: { type: 'string' },
    'enqueue-batch': { type: 'string' },
  });
  return {
    deliveries: integer(values, 'deliveries', DEFAULTS.deliveries, 1),
    subscriptions: integer(values, 'subscriptions', DEFAULTS.subscriptions, 1),
    enqueueBatch: integer(values, 'enqueue-batch', DEFAULTS.enqueueBatches[0], 1),
  };
}

export function dispatcherArguments(config: DispatcherConfig): string[] {
  return [
    '--deliveries',
    String(config.deliveries),
    '--subscriptions',
    String(config.subscriptions),
    '--enqueue-batch',
    String(config.enqueueBatch),
  ];
}

export function parseAlertLatencyArguments(argv: readonly string[]): AlertLatencyConfig {
  const values = parseFlags(argv, {
    'alert-rate': { type: 'string' },
    'alert-seconds': { type: 'string' },
    'alert-series': { type: 'string' },
  });
  return {
    rate: integer(values, 'alert-rate', DEFAULTS.alertRate, 1),
    seconds: integer(values, 'alert-seconds', DEFAULTS.alertSeconds, 1),
    series: integer(values, 'alert-series', DEFAULTS.alertSeries, 1),
  };
}

export function alertLatencyArguments(config: AlertLatencyConfig): string[] {
  return [
    '--alert-rate',
    String(config.rate),
    '--alert-seconds',
    String(config.seconds),
    '--alert-series',
    String(config.series),
  ];
}

export function parseTriageArguments(argv: readonly string[]): TriageConfig {
  const values = parseFlags(argv, {
    arm: { type: 'string' },
    points: { type: 'string' },
    runs: { type: 'string' },
    series: { type: 'string' },
    'spike-every': { type: 'string' },
  });
  const arm = TRIAGE_ARMS.find((a) => a === values.arm);
  if (!arm) throw new UsageError(`--arm must be one of ${TRIAGE_ARMS.join(', ')}`);
  return {
    arm,
    points: integer(values, 'points', DEFAULTS.triagePoints, 1),
    runs: integer(values, 'runs', DEFAULTS.triageRuns, 1),
    series: integer(values, 'series', DEFAULTS.triageSeries, 1),
    spikeEvery: integer(values, 'spike-every', DEFAULTS.triageSpikeEvery, 1),
  };
}

export function triageArguments(config: TriageConfig): string[] {
  return [
    '--arm',
    config.arm,
    '--points',
    String(config.points),
    '--runs',
    String(config.runs),
    '--series',
    String(config.series),
    '--spike-every',
    String(config.spikeEvery),
  ];
}

export function parseCompareArguments(argv: readonly string[]): CompareOptions {
  const files = parsePositionals(argv);
  if (files.length !== 2) throw new UsageError(`expected two result files, got ${files.length}`);
  return { baseline: files[0], candidate: files[1] };
}

type Flags = Record<string, { type: 'string' | 'boolean'; short?: string }>;
type Values = Record<string, string | boolean | undefined>;

const LOAD_FLAGS: Flags = {
  points: { type: 'string' },
  series: { type: 'string' },
  'request-points': { type: 'string' },
};

function parseLoad(values: Values): PipelineLoad {
  return {
    points: integer(values, 'points', DEFAULTS.pipelinePoints, 1),
    series: integer(values, 'series', DEFAULTS.pipelineSeries, 1),
    requestPoints: integer(values, 'request-points', DEFAULTS.requestPoints, 1),
  };
}

function loadArguments(load: PipelineLoad): string[] {
  return [
    '--points',
    String(load.points),
    '--series',
    String(load.series),
    '--request-points',
    String(load.requestPoints),
  ];
}

function parseFlags(argv: readonly string[], options: Flags): Values {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Values;
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
}

function parsePositionals(argv: readonly string[]): string[] {
  try {
    return parseArgs({ args: [...argv], options: {}, strict: true, allowPositionals: true }).positionals;
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
}

function integer(values: Values, flag: string, fallback: number, min: number): number {
  const raw = values[flag];
  if (raw === undefined) return fallback;
  // Digits, optionally with an exponent (1e6), so that huge counts stay readable.
  const parsed = typeof raw === 'string' && /^\d+(e\d+)?$/i.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min) {
    throw new UsageError(`--${flag} must be an integer >= ${min}, got '${String(raw)}'`);
  }
  return parsed;
}

function integerList(values: Values, flag: string, fallback: readonly number[], min: number): number[] {
  const raw = values[flag];
  if (raw === undefined) return [...fallback];
  const list = String(raw)
    .split(',')
    .map((item) => integer({ [flag]: item.trim() }, flag, NaN, min));
  return [...new Set(list)];
}

function text(values: Values, flag: string): string | undefined {
  const raw = values[flag];
  return typeof raw === 'string' ? raw : undefined;
}

function benchmarkName(raw: string): BenchmarkName {
  const found = BENCHMARKS.find((name) => name === raw);
  if (!found) throw new UsageError(`--only must be one of ${BENCHMARKS.join(', ')}, got '${raw}'`);
  return found;
}

function suiteName(raw: string): SuiteName {
  const names = Object.keys(SUITES) as SuiteName[];
  const found = names.find((name) => name === raw);
  if (!found) throw new UsageError(`--suite must be one of ${names.join(', ')}, got '${raw}'`);
  return found;
}

function detectorList(raw: string): string[] {
  const kinds = raw.split(',').map((kind) => kind.trim());
  if (kinds.some((kind) => kind === '')) throw new UsageError(`--detectors has an empty name in '${raw}'`);
  return [...new Set(kinds)];
}

function requiredDetector(values: Values): string {
  const raw = values.detector;
  if (typeof raw !== 'string' || raw === '') throw new UsageError('--detector is required');
  return raw;
}

function filePath(values: Values, flag: string): string | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw === '') throw new UsageError(`--${flag} needs a file path`);
  return raw;
}
