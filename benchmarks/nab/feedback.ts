import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import {
  DEFAULT_INCIDENT_POLICY,
  DEFAULT_LABEL_AGE_MS,
  type FeedbackSuppressorOptions,
  type IncidentPolicy,
} from '@seismo/alerting';
import { DEFAULT_DETECTOR } from '@seismo/detectors';
import { DEFAULT_ANOMALY_THRESHOLD } from '@seismo/engine/pipeline/anomaly-record';
import { CONTEXT_POINTS } from '@seismo/engine/scoring/series-scorer';
import { parseTenantId } from '@seismo/storage';
import { describeMachine, type Machine } from '../src/machine';
import { replayAlerts } from './alert-replay';
import { emitAnomalies } from './anomaly-stream';
import { loadCorpus } from './corpus';
import { DEFAULT_OPERATOR_POLICY, type OperatorPolicy, SimulatedOperator } from './feedback-operator';
import { type FeedbackTally, type FileFeedbackTally, tallyFile, totalOf } from './feedback-tally';
import { defaultDataDir } from './run';

interface CliOptions {
  data: string;
  fpLabels: number;
  tpLabels: boolean;
  delay: number;
  labelDays: number;
  out?: string;
}

export interface FeedbackReport {
  benchmark: 'nab-feedback';
  data: string;
  detector: string;
  threshold: number;
  contextPoints: number;
  /** `falsePositiveLabels` is "all" for every one (Infinity has no JSON). */
  operator: Omit<OperatorPolicy, 'falsePositiveLabels'> & { falsePositiveLabels: number | 'all' };
  suppressor: FeedbackSuppressorOptions;
  incidents: Pick<IncidentPolicy, 'resolveAfterMs' | 'renotifyAfterMs'>;
  files: FileFeedbackTally[];
  total: FeedbackTally;
  points: number;
  elapsedSeconds: number;
  machine: Machine;
}

/** One tenant; each file is a series of its own, replayed with a fresh suppressor: no label crosses files. */
const TENANT = parseTenantId('nab');

async function main(argv: string[]): Promise<void> {
  const options = parseArguments(argv);
  const machine = describeMachine();
  const corpus = await loadCorpus(options.data);
  for (const name of corpus.unlabelled) {
    process.stderr.write(`nab:feedback: warning: no labels for ${name}; skipped\n`);
  }
  const policy: OperatorPolicy = {
    falsePositiveLabels: options.fpLabels,
    labelTruePositives: options.tpLabels,
    delayMs: options.delay * 60_000,
  };
  // Fails on a bad policy before any file is read through it.
  new SimulatedOperator(policy);
  // Infinity has no JSON: a label that never expires is reported as maxAgeMs null.
  const suppressor: FeedbackSuppressorOptions = { maxAgeMs: options.labelDays * 86_400_000 };

  const start = process.hrtime.bigint();
  const files: FileFeedbackTally[] = [];
  for (const file of corpus.files) {
    const anomalies = emitAnomalies(file, { tenantId: TENANT });
    const input = { series: file.name, timestamps: file.timestamps, anomalies, windows: file.windows };
    const without = replayAlerts(input);
    const withFeedback = replayAlerts(input, { operator: new SimulatedOperator(policy), suppressor });
    files.push(tallyFile(file.name, file.windows.length, anomalies.length, without, withFeedback));
  }
  const elapsedSeconds = Number(process.hrtime.bigint() - start) / 1e9;

  const report: FeedbackReport = {
    benchmark: 'nab-feedback',
    data: corpus.dir,
    detector: DEFAULT_DETECTOR,
    threshold: DEFAULT_ANOMALY_THRESHOLD,
    contextPoints: CONTEXT_POINTS,
    operator: {
      ...policy,
      falsePositiveLabels: Number.isFinite(policy.falsePositiveLabels) ? policy.falsePositiveLabels : 'all',
    },
    suppressor,
    incidents: {
      resolveAfterMs: DEFAULT_INCIDENT_POLICY.resolveAfterMs,
      renotifyAfterMs: DEFAULT_INCIDENT_POLICY.renotifyAfterMs,
    },
    files,
    total: totalOf(files),
    points: corpus.points,
    elapsedSeconds,
    machine,
  };
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
  const program = new Command('nab:feedback')
    .description(
      'Replays the NAB corpus through the engine and the alert path, once without feedback and once with a ' +
        "simulated operator's labels, and counts the alerts inside and outside the labelled windows.",
    )
    .option('--data <dir>', 'NAB-format corpus: data/, labels/combined_windows.json', defaultDataDir())
    .option(
      '--fp-labels <n|all>',
      'false-positive alerts the operator labels per series, the first ones',
      parseCount,
      DEFAULT_OPERATOR_POLICY.falsePositiveLabels,
    )
    .option('--no-tp-labels', 'the operator does not label alerts inside a window true_positive')
    .option(
      '--delay <minutes>',
      'minutes from an alert to its label reaching the suppressor',
      parseMinutes,
      DEFAULT_OPERATOR_POLICY.delayMs / 60_000,
    )
    .option(
      '--label-days <days|never>',
      'how long a label teaches, either side of its anomaly',
      parseDays,
      DEFAULT_LABEL_AGE_MS / 86_400_000,
    )
    .option('--out <file.json>', 'write the JSON report here instead of stdout')
    .showHelpAfterError()
    .parse(argv);
  return program.opts<CliOptions>();
}

function parseCount(text: string): number {
  if (text === 'all') return Number.POSITIVE_INFINITY;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError('expected an integer >= 0 or "all"');
  return n;
}

function parseDays(text: string): number {
  if (text === 'never') return Number.POSITIVE_INFINITY;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || text.trim() === '')
    throw new InvalidArgumentError('expected days > 0 or "never"');
  return n;
}

function parseMinutes(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || text.trim() === '')
    throw new InvalidArgumentError('expected minutes >= 0');
  return n;
}

function summary(r: FeedbackReport): string {
  const lines: string[] = [];
  const t = r.total;
  const o = r.operator;
  lines.push(
    `${r.detector} at ${r.threshold} on ${r.data}: ${r.files.length} files, ${r.points.toLocaleString('en')} points, ` +
      `${t.windows} windows, ${t.anomalies} anomalies (${r.elapsedSeconds.toFixed(2)} s)`,
  );
  lines.push(
    `operator: false_positive on the first ${o.falsePositiveLabels} FP alerts per series, ` +
      `true_positive ${o.labelTruePositives ? 'on' : 'off'}, delay ${o.delayMs / 60_000} min`,
  );
  lines.push(`${'file'.padEnd(56)}  alerts tp/fp  feedback tp/fp  windows  labels`);
  const row = (name: string, f: FeedbackTally) =>
    `${name.padEnd(56)} ${`${f.withoutFeedback.tp}/${f.withoutFeedback.fp}`.padStart(13)}` +
    ` ${`${f.withFeedback.tp}/${f.withFeedback.fp}`.padStart(15)}` +
    ` ${`${f.withoutFeedback.windowsDetected}>${f.withFeedback.windowsDetected}/${f.windows}`.padStart(8)}` +
    ` ${`${f.withFeedback.labels.falsePositive}+${f.withFeedback.labels.truePositive}`.padStart(7)}`;
  for (const f of r.files) lines.push(row(f.name, f));
  lines.push(row('total', t));
  const percent = t.fpRemovedPercent === null ? 'n/a' : `${t.fpRemovedPercent.toFixed(1)}%`;
  lines.push(
    `feedback removes ${t.fpRemoved} of ${t.withoutFeedback.fp} false-positive alerts (${percent}) and ` +
      `${t.tpRemoved} of ${t.withoutFeedback.tp} true-positive ones; windows detected ` +
      `${t.withoutFeedback.windowsDetected} -> ${t.withFeedback.windowsDetected} of ${t.windows} ` +
      `(lost ${t.windowsLost}, gained ${t.windowsGained}); ${t.withFeedback.suppressed} anomalies suppressed, ` +
      `${t.withFeedback.labels.falsePositive} false_positive and ${t.withFeedback.labels.truePositive} true_positive labels`,
  );
  return `${lines.join('\n')}\n`;
}

if (require.main === module) {
  main(process.argv).catch((e: unknown) => {
    process.stderr.write(`nab:feedback: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
