import { readFileSync } from 'node:fs';
import { COMPARE_USAGE, parseCompareArguments, UsageError } from './arguments';
import { type BenchParams, type ComparableResult, parseResultLine, resultKey } from './result';
import { type Interval, mean, ratioOfMeansInterval, welchTTest } from './statistics';
import { formatNumber, formatTable } from './table';

/**
 * `npm run bench:compare -- baseline.jsonl candidate.jsonl`: for every configuration in
 * both files (same benchmark, detector and params) and every figure, the ratio of the
 * candidate's mean to the baseline's, its 95% confidence interval and Welch's p-value.
 * Lines of one file with the same configuration pool their runs, so concatenated result
 * files (several `npm run bench`, several processes) compare as one larger sample.
 */

export interface FigureComparison {
  readonly benchmark: string;
  readonly detector: string;
  readonly params: BenchParams;
  readonly figure: string;
  readonly unit: string;
  readonly baseline: readonly number[];
  readonly candidate: readonly number[];
  /** mean(candidate) / mean(baseline). */
  readonly ratio: number;
  /** 95% interval of the ratio; null with a single run on either side, or when unbounded. */
  readonly interval: Interval | null;
  /** Welch's two-sided p-value for equal means; null with a single run on either side. */
  readonly p: number | null;
}

export interface ComparisonReport {
  readonly comparisons: readonly FigureComparison[];
  /** What could not be paired, in words. */
  readonly unmatched: readonly string[];
}

interface Pooled {
  readonly result: ComparableResult;
  readonly figures: Map<string, { unit: string; runs: number[] }>;
}

export function compareResults(
  baseline: readonly ComparableResult[],
  candidate: readonly ComparableResult[],
): ComparisonReport {
  const before = pool(baseline, 'baseline');
  const after = pool(candidate, 'candidate');
  const comparisons: FigureComparison[] = [];
  const unmatched: string[] = [];
  for (const [key, old] of before) {
    const next = after.get(key);
    if (!next) {
      unmatched.push(`only in baseline: ${label(old.result)}`);
      continue;
    }
    for (const [name, a] of old.figures) {
      const b = next.figures.get(name);
      if (!b) unmatched.push(`only in baseline: ${label(old.result)} ${name}`);
      else if (a.unit !== b.unit) unmatched.push(`${label(old.result)} ${name}: unit ${a.unit} vs ${b.unit}`);
      else comparisons.push(compareFigure(old.result, name, a.unit, a.runs, b.runs));
    }
    for (const name of next.figures.keys()) {
      if (!old.figures.has(name)) unmatched.push(`only in candidate: ${label(old.result)} ${name}`);
    }
  }
  for (const [key, next] of after) {
    if (!before.has(key)) unmatched.push(`only in candidate: ${label(next.result)}`);
  }
  return { comparisons, unmatched };
}

function compareFigure(
  result: ComparableResult,
  figure: string,
  unit: string,
  baseline: readonly number[],
  candidate: readonly number[],
): FigureComparison {
  const testable = baseline.length >= 2 && candidate.length >= 2;
  return {
    benchmark: result.benchmark,
    detector: result.detector,
    params: result.params,
    figure,
    unit,
    baseline,
    candidate,
    ratio: mean(candidate) / mean(baseline),
    interval: testable ? ratioOfMeansInterval(candidate, baseline) : null,
    p: testable ? welchTTest(candidate, baseline).p : null,
  };
}

function pool(results: readonly ComparableResult[], side: string): Map<string, Pooled> {
  const pooled = new Map<string, Pooled>();
  for (const result of results) {
    const key = resultKey(result);
    let entry = pooled.get(key);
    if (!entry) {
      entry = { result, figures: new Map() };
      pooled.set(key, entry);
    }
    for (const [name, f] of Object.entries(result.figures)) {
      const figure = entry.figures.get(name);
      if (!figure) entry.figures.set(name, { unit: f.unit, runs: [...f.runs] });
      else if (figure.unit !== f.unit) {
        throw new Error(
          `${side}: ${label(result)} ${name} is in ${figure.unit} on one line and ${f.unit} on another`,
        );
      } else figure.runs.push(...f.runs);
    }
  }
  return pooled;
}

function label(result: Pick<ComparableResult, 'benchmark' | 'detector' | 'params'>): string {
  return `${result.benchmark} ${result.detector} ${formatParams(result.params)}`;
}

function formatParams(params: BenchParams): string {
  return Object.entries(params)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
}

function stars(p: number | null): string {
  if (p === null) return '';
  if (p < 0.001) return '***';
  if (p < 0.01) return '**';
  if (p < 0.05) return '*';
  return '';
}

export function formatReport(report: ComparisonReport): string {
  const rows = report.comparisons.map((c) => [
    c.benchmark,
    c.detector,
    formatParams(c.params),
    c.figure,
    `${formatNumber(mean(c.baseline))} ${c.unit}`,
    `${formatNumber(mean(c.candidate))} ${c.unit}`,
    c.ratio.toFixed(3),
    c.interval ? `[${c.interval.low.toFixed(3)}, ${c.interval.high.toFixed(3)}]` : '—',
    c.p === null ? '—' : c.p < 0.001 ? '<0.001' : c.p.toFixed(3),
    stars(c.p),
    `${c.baseline.length}/${c.candidate.length}`,
  ]);
  const table = formatTable(
    [
      'benchmark',
      'detector',
      'params',
      'figure',
      'baseline',
      'candidate',
      'ratio',
      '95% CI',
      'p',
      '',
      'runs',
    ],
    rows,
    ['left', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'left', 'right'],
  );
  const notes = [
    "ratio = candidate mean / baseline mean; 95% CI by Fieller's theorem; p from Welch's t-test",
    '(* p < 0.05, ** p < 0.01, *** p < 0.001); — where a side has a single run.',
    'Runs of one process share its JIT and heap: pool several result files per side for a sounder test.',
  ];
  const unmatched =
    report.unmatched.length > 0 ? `\n\nNot compared:\n  ${report.unmatched.join('\n  ')}` : '';
  return `${table}\n\n${notes.join('\n')}${unmatched}`;
}

export function readResultFile(path: string): ComparableResult[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line, i) => ({ line, where: `${path}:${i + 1}` }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, where }) => parseResultLine(line, where));
}

if (require.main === module) {
  try {
    const { baseline, candidate } = parseCompareArguments(process.argv.slice(2));
    process.stdout.write(
      `${formatReport(compareResults(readResultFile(baseline), readResultFile(candidate)))}\n`,
    );
  } catch (error) {
    const usage = error instanceof UsageError;
    process.stderr.write(`${(error as Error).message}${usage ? `\n\n${COMPARE_USAGE}` : ''}\n`);
    process.exitCode = usage ? 2 : 1;
  }
}
