import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_DETECTOR, detectorKinds } from '@seismo/detectors';
import {
  alertLatencyArguments,
  DEFAULTS,
  dispatcherArguments,
  engineArguments,
  memoryArguments,
  overheadArguments,
  parseRunArguments,
  RUN_USAGE,
  type RunOptions,
  serverArguments,
  throughputArguments,
  triageArguments,
  UsageError,
} from './arguments';
import { forkMeasurement } from './fork';
import { describeMachine } from './machine';
import { MEMORY_EXEC_ARGV } from './memory.bench';
import { overheadOrder, summarizeOverhead } from './overhead';
import { type BenchmarkResult } from './result';
import { readCsvSeries } from './series';
import { SERIES_MEMORY_EXEC_ARGV } from './series-memory.bench';
import { formatNumber, formatSpread, formatTable } from './table';
import { summarizeTriage, triageOrder } from './triage';

/**
 * `npm run bench`: plans one child process per configuration, runs them one after
 * another (the machine's other core is left to the OS, not to a second benchmark), and
 * writes each result as a JSON line to stdout and to bench-results/<date>.jsonl as it
 * arrives, so a crash late in a long run keeps what came before. A summary for people
 * goes to stderr at the end.
 */

const RESULTS_DIR = 'bench-results';
/** The pipeline benchmarks hold their whole workload encoded (a few hundred MB at 2M points). */
const PIPELINE_EXEC_ARGV = ['--max-old-space-size=4096'];

interface Job {
  readonly label: string;
  readonly script: string;
  readonly args: readonly string[];
  readonly execArgv: readonly string[];
}

async function main(): Promise<void> {
  const options = parseRunArguments(process.argv.slice(2));
  if (options.help) {
    process.stderr.write(`${RUN_USAGE}\n`);
    return;
  }
  const jobs = plan(options);
  const machine = describeMachine();
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${machine.date.replace(/[:.]/g, '-')}.jsonl`);
  const results: BenchmarkResult[] = [];
  const failures: string[] = [];
  for (const [i, job] of jobs.entries()) {
    process.stderr.write(`[${i + 1}/${jobs.length}] ${job.label}\n`);
    try {
      const result: BenchmarkResult = {
        ...(await forkMeasurement(job.script, job.args, job.execArgv)),
        machine,
      };
      const line = `${JSON.stringify(result)}\n`;
      process.stdout.write(line);
      appendFileSync(file, line);
      results.push(result);
    } catch (error) {
      // One broken detector must not cost the figures of all the others.
      failures.push(`${job.label}: ${(error as Error).message}`);
    }
  }
  if (results.some((r) => r.benchmark === 'overhead')) {
    try {
      // The machine as the run ends too: the load another engineer put on it meanwhile.
      const line = `${JSON.stringify({ ...summarizeOverhead(results), machine, loadAverageAtEnd: describeMachine().loadAverage })}\n`;
      process.stdout.write(line);
      appendFileSync(file, line);
    } catch (error) {
      failures.push(`overhead summary: ${(error as Error).message}`);
    }
  }
  if (results.some((r) => r.benchmark === 'triage')) {
    try {
      const line = `${JSON.stringify({ ...summarizeTriage(results), machine, loadAverageAtEnd: describeMachine().loadAverage })}\n`;
      process.stdout.write(line);
      appendFileSync(file, line);
    } catch (error) {
      failures.push(`triage summary: ${(error as Error).message}`);
    }
  }
  if (results.length > 0) process.stderr.write(`\n${summary(results)}\n\nresults: ${file}\n`);
  if (failures.length > 0) {
    process.stderr.write(`failed:\n${failures.map((f) => `  ${f}\n`).join('')}`);
    process.exitCode = 1;
  }
}

function plan(options: RunOptions): Job[] {
  const known = detectorKinds();
  const unknown = (options.detectors ?? []).filter((kind) => !known.includes(kind));
  if (unknown.length > 0) {
    throw new UsageError(
      `--detectors: unknown ${unknown.map((k) => `'${k}'`).join(', ')}; known: ${known.join(', ')}`,
    );
  }
  if (options.data !== undefined) {
    // Read once here, so that a bad file stops the run with one message, not one per child.
    try {
      readCsvSeries(options.data);
    } catch (error) {
      throw new UsageError(`--data: ${(error as Error).message}`, { cause: error });
    }
  }
  const { points, runs, series, seriesCount, warmPoints, data } = options;
  const jobs: Job[] = [];
  if (options.benchmarks.includes('throughput')) {
    // Single series first: the detector's own speed. Then many: what the engine sees,
    // where each point's state is cold in cache.
    for (const detector of options.detectors ?? known) {
      for (const count of new Set([1, series])) {
        jobs.push({
          label: `throughput ${detector} series=${count}`,
          script: path.join(__dirname, 'throughput.bench.js'),
          args: throughputArguments({ detector, series: count, points, runs, warmPoints, data }),
          execArgv: [],
        });
      }
    }
  }
  if (options.benchmarks.includes('memory')) {
    for (const detector of options.detectors ?? [DEFAULT_DETECTOR]) {
      jobs.push({
        label: `memory ${detector} series=${seriesCount}`,
        script: path.join(__dirname, 'memory.bench.js'),
        args: memoryArguments({ detector, seriesCount, warmPoints, data }),
        execArgv: MEMORY_EXEC_ARGV,
      });
    }
  }
  if (options.benchmarks.includes('series-memory')) {
    for (const detector of options.detectors ?? [DEFAULT_DETECTOR]) {
      jobs.push({
        label: `series-memory ${detector} series=${seriesCount}`,
        script: path.join(__dirname, 'series-memory.bench.js'),
        args: memoryArguments({ detector, seriesCount, warmPoints, data }),
        execArgv: SERIES_MEMORY_EXEC_ARGV,
      });
    }
  }
  // The pipeline runs the engine's detector; --detectors does not apply to them.
  const load = {
    points: options.pipelinePoints,
    series: options.pipelineSeries,
    requestPoints: options.requestPoints,
  };
  if (options.benchmarks.includes('engine')) {
    jobs.push({
      label: `engine points=${load.points} series=${load.series}`,
      script: path.join(__dirname, 'engine.bench.js'),
      args: engineArguments(load),
      execArgv: PIPELINE_EXEC_ARGV,
    });
  }
  for (const [benchmark, mode] of [
    ['embedded', 'embedded'],
    ['end-to-end', 'kafka'],
  ] as const) {
    if (!options.benchmarks.includes(benchmark)) continue;
    jobs.push({
      label: `${benchmark} points=${load.points} series=${load.series}`,
      script: path.join(__dirname, 'server.bench.js'),
      args: serverArguments({
        mode,
        ...load,
        concurrency: options.concurrency,
        latencyRate: options.latencyRate,
        latencySeconds: options.latencySeconds,
      }),
      execArgv: PIPELINE_EXEC_ARGV,
    });
  }
  if (options.benchmarks.includes('overhead')) {
    for (const [i, arm] of overheadOrder(options.overheadPairs).entries()) {
      jobs.push({
        label: `overhead ${arm} (${Math.floor(i / 2) + 1} of ${options.overheadPairs})`,
        script: path.join(__dirname, 'overhead.bench.js'),
        args: overheadArguments({
          arm,
          points: options.overheadPoints,
          series: options.pipelineSeries,
          requestPoints: DEFAULTS.overheadRequestPoints,
          runs: options.overheadRuns,
        }),
        execArgv: PIPELINE_EXEC_ARGV,
      });
    }
  }
  if (options.benchmarks.includes('dispatcher')) {
    const { deliveries, subscriptions } = options;
    for (const enqueueBatch of options.enqueueBatches) {
      jobs.push({
        label: `dispatcher deliveries=${deliveries} subscriptions=${subscriptions} enqueue-batch=${enqueueBatch}`,
        script: path.join(__dirname, 'dispatcher.bench.js'),
        args: dispatcherArguments({ deliveries, subscriptions, enqueueBatch }),
        execArgv: [],
      });
    }
  }
  if (options.benchmarks.includes('alert-latency')) {
    const config = { rate: options.alertRate, seconds: options.alertSeconds, series: options.alertSeries };
    jobs.push({
      label: `alert-latency rate=${config.rate} seconds=${config.seconds} series=${config.series}`,
      script: path.join(__dirname, 'alert-latency.bench.js'),
      args: alertLatencyArguments(config),
      execArgv: PIPELINE_EXEC_ARGV,
    });
  }
  if (options.benchmarks.includes('triage')) {
    for (const [i, arm] of triageOrder(options.triagePairs).entries()) {
      jobs.push({
        label: `triage ${arm} (${Math.floor(i / 2) + 1} of ${options.triagePairs})`,
        script: path.join(__dirname, 'triage.bench.js'),
        args: triageArguments({
          arm,
          points: options.triagePoints,
          runs: options.triageRuns,
          series: DEFAULTS.triageSeries,
          spikeEvery: options.triageSpikeEvery,
        }),
        execArgv: PIPELINE_EXEC_ARGV,
      });
    }
  }
  return jobs;
}

function summary(results: readonly BenchmarkResult[]): string {
  const rows = results.flatMap((result) =>
    Object.entries(result.figures).map(([name, f]) => [
      result.benchmark,
      result.detector,
      Object.entries(result.params)
        .map(([param, value]) => `${param}=${value}`)
        .join(' '),
      name,
      `${formatNumber(f.mean)} ${f.unit}`,
      formatSpread(f.stddev, f.mean),
      String(f.runs.length),
    ]),
  );
  return formatTable(['benchmark', 'detector', 'params', 'figure', 'mean', 'spread', 'runs'], rows, [
    'left',
    'left',
    'left',
    'left',
    'right',
    'right',
    'right',
  ]);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n\n${RUN_USAGE}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
});
