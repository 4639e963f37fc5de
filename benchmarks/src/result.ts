import { type Machine } from './machine';
import { mean, percentile, standardDeviation } from './statistics';

/** One measured quantity: every run's value, and their mean and spread. */
export interface Figure {
  readonly unit: string;
  readonly mean: number;
  /** Sample standard deviation; null with a single run. */
  readonly stddev: number | null;
  readonly runs: readonly number[];
}

export type BenchParams = Readonly<Record<string, string | number>>;

/** What a child process measures for one configuration. */
export interface Measurement {
  readonly benchmark: string;
  readonly detector: string;
  /** What was measured: a result compares only with results of equal params. */
  readonly params: BenchParams;
  readonly figures: Readonly<Record<string, Figure>>;
  /** How many timed runs each figure holds. */
  readonly runs: number;
}

/** One JSON line of the results: a measurement and the machine it was taken on. */
export interface BenchmarkResult extends Measurement {
  readonly machine: Machine;
}

export function figure(unit: string, runs: readonly number[]): Figure {
  return { unit, mean: mean(runs), stddev: standardDeviation(runs), runs: [...runs] };
}

/**
 * A latency sample's p50, p95, p99 and max as figures of one run each, named
 * `<name>P50Ms` and so on; none when the sample is empty (nothing arrived to be timed).
 */
export function latencyFigures(name: string, latenciesMs: readonly number[]): Record<string, Figure> {
  if (latenciesMs.length === 0) return {};
  return {
    [`${name}P50Ms`]: figure('ms', [percentile(latenciesMs, 50)]),
    [`${name}P95Ms`]: figure('ms', [percentile(latenciesMs, 95)]),
    [`${name}P99Ms`]: figure('ms', [percentile(latenciesMs, 99)]),
    [`${name}MaxMs`]: figure('ms', [percentile(latenciesMs, 100)]),
  };
}

/** Identity of a configuration, independent of the order params were written in. */
export function resultKey(result: Pick<Measurement, 'benchmark' | 'detector' | 'params'>): string {
  const params = Object.keys(result.params)
    .sort()
    .map((name) => [name, result.params[name]]);
  return JSON.stringify([result.benchmark, result.detector, params]);
}

/** The part of a result that comparisons read. */
export type ComparableResult = Pick<Measurement, 'benchmark' | 'detector' | 'params' | 'figures'>;

/**
 * Reads one line of a results file. Only what `compare` relies on is checked, so lines
 * that gain fields later still compare with today's.
 */
export function parseResultLine(line: string, where: string): ComparableResult {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new Error(`${where}: not a JSON line`);
  }
  const fail = (why: string): never => {
    throw new Error(`${where}: ${why}`);
  };
  if (!isRecord(raw)) return fail('not a JSON object');
  if (typeof raw.benchmark !== 'string') return fail("'benchmark' must be a string");
  if (typeof raw.detector !== 'string') return fail("'detector' must be a string");
  if (!isRecord(raw.params)) return fail("'params' must be an object");
  if (!isRecord(raw.figures)) return fail("'figures' must be an object");
  const figures: Record<string, Figure> = {};
  for (const [name, f] of Object.entries(raw.figures)) {
    if (!isRecord(f) || typeof f.unit !== 'string') return fail(`figure '${name}' needs a 'unit'`);
    const runs = f.runs;
    if (
      !Array.isArray(runs) ||
      runs.length === 0 ||
      !runs.every((v) => typeof v === 'number' && Number.isFinite(v))
    ) {
      return fail(`figure '${name}' needs 'runs', a non-empty list of numbers`);
    }
    figures[name] = figure(f.unit, runs as number[]);
  }
  return {
    benchmark: raw.benchmark,
    detector: raw.detector,
    params: raw.params as BenchParams,
    figures,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
