import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createDetector, DEFAULT_DETECTOR, type Params } from '@seismo/detectors';
import { type Corpus, loadCorpus } from './corpus';
import { type DetectorRun, evaluate } from './evaluation';
import { readResults, writeResults } from './results';
import {
  categoryScores,
  type CategoryScore,
  type FileScore,
  NabScorer,
  NO_DETECTION,
  type ProfileScore,
} from './scorer';

/** The profile whose per-category and per-file figures the report carries. */
const BREAKDOWN_PROFILE = 'standard';

interface CliOptions {
  data: string;
  detector: string;
  params?: Params;
  out?: string;
  results?: string;
  scores?: string;
}

export interface NabReport {
  detector: string;
  params: Params | null;
  data: string;
  /** Set when existing result files were scored instead of running a detector. */
  results: string | null;
  windows: number;
  profiles: Record<string, Omit<ProfileScore, 'files' | 'nullScore' | 'perfect'>>;
  breakdownProfile: string;
  categories: CategoryScore[];
  files: FileScore[];
  points: number;
  elapsedSeconds: number | null;
  pointsPerSecond: number | null;
  machine: { cpu: string; cores: number; node: string };
}

async function main(argv: string[]): Promise<void> {
  const options = parseArguments(argv);
  const corpus = await loadCorpus(options.data);
  for (const name of corpus.unlabelled) {
    process.stderr.write(`nab: warning: no labels for ${name}; skipped\n`);
  }
  const scorer = new NabScorer(corpus.files);

  let report: NabReport;
  if (options.scores !== undefined) {
    const scores = await readResults(options.scores, corpus);
    const results = path.resolve(options.scores);
    report = buildReport(corpus, scorer, scorer.score(scores, corpus.profiles), {
      detector: path.basename(results),
      params: null,
      results,
      run: null,
    });
  } else {
    const { detector: kind, params } = options;
    // Fails on an unknown detector or a bad parameter before any file is read through it.
    createDetector(kind, params);
    const evaluation = evaluate(corpus, () => createDetector(kind, params), scorer);
    if (options.results !== undefined) {
      for (const [f, file] of corpus.files.entries()) {
        await writeResults(options.results, kind, file, evaluation.run.scores[f]);
      }
    }
    report = buildReport(corpus, scorer, evaluation.profiles, {
      detector: kind,
      params: params ?? {},
      results: null,
      run: evaluation.run,
    });
  }

  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (options.out !== undefined) {
    await mkdir(path.dirname(path.resolve(options.out)), { recursive: true });
    await writeFile(options.out, json);
  } else {
    process.stdout.write(json);
  }
  process.stderr.write(summary(report));
}

function parseArguments(argv: string[]): CliOptions {
  const program = new Command('nab')
    .description('Scores a Seismo detector on a NAB-format corpus with the Numenta Anomaly Benchmark rules.')
    .option(
      '--data <dir>',
      'NAB-format corpus: data/, labels/combined_windows.json, config/profiles.json',
      defaultDataDir(),
    )
    .option('--detector <kind>', 'detector to run', DEFAULT_DETECTOR)
    .option('--params <json>', 'detector parameters as a JSON object, e.g. {"halfLife": 32}', parseParams)
    .option('--out <file.json>', 'write the JSON report here instead of stdout')
    .option('--results <dir>', 'also write NAB result CSVs to <dir>/<category>/<detector>_<file>.csv')
    .addOption(
      new Option(
        '--scores <dir>',
        'score existing NAB result CSVs in <dir> instead of running a detector',
      ).conflicts(['detector', 'params', 'results']),
    )
    .showHelpAfterError()
    .parse(argv);
  return program.opts<CliOptions>();
}

function parseParams(text: string): Params {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InvalidArgumentError(`not JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError('it must be a JSON object of parameter names to values');
  }
  for (const [name, v] of Object.entries(value)) {
    if (!['number', 'boolean', 'string'].includes(typeof v)) {
      throw new InvalidArgumentError(`parameter '${name}' must be a number, boolean or string`);
    }
  }
  return value as Params;
}

/** `<repo>/../shared/data/nab`, from benchmarks/nab/run.ts and from dist/benchmarks/nab/run.js alike. */
export function defaultDataDir(): string {
  const up = path.resolve(__dirname, '..', '..');
  const root = path.basename(up) === 'dist' ? path.dirname(up) : up;
  return path.resolve(root, '..', 'shared', 'data', 'nab');
}

function buildReport(
  corpus: Corpus,
  scorer: NabScorer,
  profiles: Record<string, ProfileScore>,
  source: Pick<NabReport, 'detector' | 'params' | 'results'> & { run: DetectorRun | null },
): NabReport {
  const breakdownProfile = BREAKDOWN_PROFILE in profiles ? BREAKDOWN_PROFILE : Object.keys(profiles)[0];
  const files = profiles[breakdownProfile].files;
  const summaries: NabReport['profiles'] = {};
  for (const [name, p] of Object.entries(profiles)) {
    summaries[name] = {
      threshold: p.threshold,
      raw: p.raw,
      normalized: p.normalized,
      windows: p.windows,
      fp: p.fp,
    };
  }
  const { run } = source;
  const cpu = cpus();
  return {
    detector: source.detector,
    params: source.params,
    data: corpus.dir,
    results: source.results,
    windows: scorer.windows,
    profiles: summaries,
    breakdownProfile,
    categories: categoryScores(files),
    files: [...files],
    points: corpus.points,
    elapsedSeconds: run ? run.elapsedSeconds : null,
    pointsPerSecond: run && run.elapsedSeconds > 0 ? run.points / run.elapsedSeconds : null,
    machine: { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, node: process.version },
  };
}

function summary(r: NabReport): string {
  const lines: string[] = [];
  const source = r.results ?? `${r.detector} ${JSON.stringify(r.params)}`;
  const speed =
    r.elapsedSeconds === null
      ? ''
      : `, ${r.elapsedSeconds.toFixed(2)} s in detectors (${Math.round(r.pointsPerSecond ?? 0).toLocaleString('en')} points/s)`;
  lines.push(`${source} on ${r.data}`);
  lines.push(
    `${r.files.length} files, ${r.points.toLocaleString('en')} points, ${r.windows} windows${speed}`,
  );
  lines.push('profile                score      raw  threshold  windows   fp');
  for (const [name, p] of Object.entries(r.profiles)) {
    const threshold = p.threshold === NO_DETECTION ? 'none' : p.threshold.toPrecision(6);
    lines.push(
      `${name.padEnd(20)} ${p.normalized.toFixed(2).padStart(7)} ${p.raw.toFixed(3).padStart(8)} ${threshold.padStart(10)}` +
        ` ${`${p.windows.tp}/${p.windows.tp + p.windows.fn}`.padStart(8)} ${String(p.fp).padStart(4)}`,
    );
  }
  lines.push(`by category (${r.breakdownProfile})    files      raw  windows   fp`);
  for (const c of r.categories) {
    lines.push(
      `${c.category.padEnd(27)} ${String(c.files).padStart(5)} ${c.raw.toFixed(3).padStart(8)}` +
        ` ${`${c.windows.tp}/${c.windows.tp + c.windows.fn}`.padStart(8)} ${String(c.fp).padStart(4)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

if (require.main === module) {
  main(process.argv).catch((e: unknown) => {
    process.stderr.write(`nab: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
