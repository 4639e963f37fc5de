import { parseArgs } from 'node:util';

/**
 * Command lines of the benchmark runner, of the child processes it forks, and of the
 * compare script. Children take the runner's flag names, so a child can be run by hand
 * (`node --expose-gc dist/benchmarks/src/memory.bench.js --detector ewma`) to debug it.
 */

export const BENCHMARKS = ['throughput', 'memory'] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];

export const DEFAULTS = {
  runs: 5,
  points: 1_000_000,
  series: 1000,
  seriesCount: 100_000,
  warmPoints: 1500,
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

export interface CompareOptions {
  readonly baseline: string;
  readonly candidate: string;
}

/** A command line that cannot be run: the message names the flag. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const RUN_USAGE = `Usage: npm run bench -- [options]
  --only throughput|memory   run one benchmark (default: both)
  --detectors a,b            detector kinds (default: all for throughput, the default one for memory)
  --runs N                   timed runs per throughput configuration (default ${DEFAULTS.runs})
  --points N                 points per timed run (default ${DEFAULTS.points})
  --series K                 series for the many-series throughput run (default ${DEFAULTS.series})
  --series-count N           series held at once by the memory benchmark (default ${DEFAULTS.seriesCount})
  --warm-points N            points each series sees before measuring (default ${DEFAULTS.warmPoints})
  --data FILE.csv            replay a timestamp,value CSV instead of the synthetic series`;

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
    help: { type: 'boolean', short: 'h' },
  });
  const only = text(values, 'only');
  const detectors = text(values, 'detectors');
  return {
    benchmarks: only === undefined ? BENCHMARKS : [benchmarkName(only)],
    detectors: detectors === undefined ? undefined : detectorList(detectors),
    runs: integer(values, 'runs', DEFAULTS.runs, 1),
    points: integer(values, 'points', DEFAULTS.points, 1),
    series: integer(values, 'series', DEFAULTS.series, 1),
    seriesCount: integer(values, 'series-count', DEFAULTS.seriesCount, 1),
    warmPoints: integer(values, 'warm-points', DEFAULTS.warmPoints, 0),
    data: filePath(values, 'data'),
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

export function parseCompareArguments(argv: readonly string[]): CompareOptions {
  const files = parsePositionals(argv);
  if (files.length !== 2) throw new UsageError(`expected two result files, got ${files.length}`);
  return { baseline: files[0], candidate: files[1] };
}

type Flags = Record<string, { type: 'string' | 'boolean'; short?: string }>;
type Values = Record<string, string | boolean | undefined>;

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

function text(values: Values, flag: string): string | undefined {
  const raw = values[flag];
  return typeof raw === 'string' ? raw : undefined;
}

function benchmarkName(raw: string): BenchmarkName {
  const found = BENCHMARKS.find((name) => name === raw);
  if (!found) throw new UsageError(`--only must be one of ${BENCHMARKS.join(', ')}, got '${raw}'`);
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
