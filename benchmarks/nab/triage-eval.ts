import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { type LlmConfig, type LlmProviderName, loadConfig } from '@seismo/config';
import { DEFAULT_DETECTOR } from '@seismo/detectors';
import { DEFAULT_ANOMALY_THRESHOLD } from '@seismo/engine/pipeline/anomaly-record';
import { CONTEXT_POINTS } from '@seismo/engine/scoring/series-scorer';
import {
  type AnomalyTriage,
  createLlmProvider,
  type LlmProvider,
  LlmTriage,
  type TriageCandidate,
  type TriagePrivacy,
  TriageScheduler,
  TRIAGE_WINDOW_BUCKETS,
  TRIAGE_WINDOW_MS,
} from '@seismo/llm';
import { parseTenantId } from '@seismo/storage';
import { describeMachine, type Machine } from '../src/machine';
import { type EmittedAnomaly, emitAnomalies } from './anomaly-stream';
import { type CorpusFile, loadCorpus } from './corpus';
import { defaultDataDir } from './run';
import { triageCandidateOf } from './triage-candidate';
import {
  type FileTriageTally,
  tallyTriagedFile,
  totalTriage,
  TRIAGE_POLICIES,
  type TriageTally,
  type TriageUsage,
  usageFigures,
} from './triage-tally';

export const DEFAULT_MAX_CANDIDATES = 2000;

export const NO_PROVIDER_MESSAGE =
  'eval:triage: no LLM provider is configured (SEISMO_LLM_PROVIDER is unset), so nothing was triaged; ' +
  'to run it set SEISMO_LLM_PROVIDER=openai or anthropic with SEISMO_LLM_API_KEY (SEISMO_LLM_MODEL optional), ' +
  'or openai-compatible with SEISMO_LLM_BASE_URL and SEISMO_LLM_MODEL';

export interface TriageEvalReport {
  benchmark: 'nab-triage';
  data: string;
  provider: LlmProviderName;
  model: string;
  detector: string;
  threshold: number;
  contextPoints: number;
  /** What the LLM is shown of each file: its rows up to the anomaly, this far back, the first of each of this many buckets. */
  window: { maxMs: number; buckets: number };
  scheduler: { concurrency: number; timeoutMs: number; waitMs: number };
  maxCandidates: number;
  /** Files past the cap, not triaged nor scored: files are taken in corpus order while all their candidates fit. */
  filesNotReached: string[];
  candidatesNotReached: number;
  files: FileTriageTally[];
  total: TriageTally;
  /** Every token the scheduler spent, retries and late answers included. */
  usage: TriageUsage;
  /** Rows of the files scored. */
  points: number;
  elapsedSeconds: number;
  machine: Machine;
}

export type TriageEvalOutcome =
  { status: 'no-provider'; message: string } | { status: 'done'; report: TriageEvalReport };

export interface TriageEvalDeps {
  /** Default: the provider the configuration names (createLlmProvider). */
  readonly createProvider?: (config: LlmConfig) => LlmProvider;
  /** Warnings and progress, one line each (default: stderr). */
  readonly warn?: (line: string) => void;
}

export interface TriageEvalOptions {
  /** The NAB-format corpus. */
  readonly data: string;
  /** Most candidates triaged: the run's spend. */
  readonly maxCandidates: number;
  /** LLM calls at once; default SEISMO_LLM_CONCURRENCY. */
  readonly concurrency?: number;
}

interface CliOptions extends TriageEvalOptions {
  out?: string;
}

/** One tenant for the corpus; each file is a series of its own. */
const TENANT = parseTenantId('nab');
/** Nothing to redact: the candidates carry no labels. Not zero retention: the prompts are not logged anyway. */
const PRIVACY: TriagePrivacy = { redactLabels: [], zeroRetention: false };
const PROGRESS_EVERY = 100;

/**
 * Replays the NAB corpus through the engine's anomaly rows and the configured LLM's triage,
 * and scores the alerts without triage and with it against the labelled windows. Without a
 * provider it reads nothing and resolves with the line saying how to configure one.
 */
export async function runTriageEval(
  options: TriageEvalOptions,
  env: NodeJS.ProcessEnv,
  deps: TriageEvalDeps = {},
): Promise<TriageEvalOutcome> {
  const config = loadConfig(env).llm;
  if (!config) return { status: 'no-provider', message: NO_PROVIDER_MESSAGE };
  const warn = deps.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const provider = (deps.createProvider ?? createLlmProvider)(config);
  const concurrency = options.concurrency ?? config.concurrency;

  const machine = describeMachine();
  const corpus = await loadCorpus(options.data);
  for (const name of corpus.unlabelled) warn(`eval:triage: warning: no labels for ${name}; skipped`);

  const start = process.hrtime.bigint();
  const streamed = corpus.files.map((file) => ({
    file,
    anomalies: emitAnomalies(file, { tenantId: TENANT }),
  }));
  const reached = planFiles(
    streamed.map((s) => s.anomalies.length),
    options.maxCandidates,
  );
  const scored = streamed.slice(0, reached);
  const notReached = streamed.slice(reached);
  if (notReached.length > 0) {
    warn(
      `eval:triage: warning: --max-candidates ${options.maxCandidates} stops before ${notReached[0].file.name} ` +
        `(${notReached.length} files, ${sum(notReached.map((s) => s.anomalies.length))} candidates not triaged nor scored)`,
    );
  }

  const candidates = scored.flatMap(({ file, anomalies }) => anomalies.map((a) => candidateOf(file, a)));
  const scheduler = new TriageScheduler<unknown>({
    queueSize: config.queueSize,
    concurrency,
    timeoutMs: config.timeoutMs,
    // The deployment's daily budget bounds the run's spend with --max-candidates; one tenant's plan does not apply.
    budgets: { globalDailyTokens: config.dailyTokens },
  });
  const llm = new LlmTriage(provider, scheduler, {
    logger: { log: warn, warn, debug: () => undefined },
  });
  let done = 0;
  let triages: AnomalyTriage[];
  try {
    // As many asks in flight as calls: none waits in the queue, so the alert path's wait is the call's.
    triages = await mapConcurrently(candidates, concurrency, async (candidate) => {
      const triage = await llm.triage(candidate, PRIVACY, config.waitMs);
      if (++done % PROGRESS_EVERY === 0) warn(`eval:triage: ${done}/${candidates.length} triaged`);
      return triage;
    });
    // Calls the alert path stopped waiting for still run to their end, and are billed.
    while (scheduler.counts.inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    await scheduler.stop();
  }

  const files: FileTriageTally[] = [];
  let at = 0;
  for (const { file, anomalies } of scored) {
    files.push(tallyTriagedFile(file, anomalies, triages.slice(at, at + anomalies.length)));
    at += anomalies.length;
  }
  const counts = scheduler.counts;
  const elapsedSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  return {
    status: 'done',
    report: {
      benchmark: 'nab-triage',
      data: corpus.dir,
      provider: config.provider,
      model: config.model,
      detector: DEFAULT_DETECTOR,
      threshold: DEFAULT_ANOMALY_THRESHOLD,
      contextPoints: CONTEXT_POINTS,
      window: { maxMs: TRIAGE_WINDOW_MS, buckets: TRIAGE_WINDOW_BUCKETS },
      scheduler: { concurrency, timeoutMs: config.timeoutMs, waitMs: config.waitMs },
      maxCandidates: options.maxCandidates,
      filesNotReached: notReached.map((s) => s.file.name),
      candidatesNotReached: sum(notReached.map((s) => s.anomalies.length)),
      files,
      total: totalTriage(files),
      usage: usageFigures(
        { inputTokens: counts.tokensIn, outputTokens: counts.tokensOut },
        { inPerMillion: config.priceInPerMillion, outPerMillion: config.priceOutPerMillion },
        candidates.length,
      ),
      points: sum(scored.map((s) => s.file.timestamps.length)),
      elapsedSeconds,
      machine,
    },
  };
}

/** How many files, in order, are triaged: while every candidate of the file fits under the cap. */
export function planFiles(candidatesPerFile: readonly number[], maxCandidates: number): number {
  let taken = 0;
  let files = 0;
  for (const n of candidatesPerFile) {
    if (taken + n > maxCandidates) break;
    taken += n;
    files++;
  }
  return files;
}

/** The series handed to the candidate: its rows only, never its labelled windows. */
function candidateOf(file: CorpusFile, anomaly: EmittedAnomaly): TriageCandidate {
  return triageCandidateOf({ name: file.name, timestamps: file.timestamps, values: file.values }, anomaly);
}

async function mapConcurrently<T, R>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return out;
}

function parseArguments(argv: string[]): CliOptions {
  const program = new Command('eval:triage')
    .description(
      "Replays the NAB corpus through the engine's anomalies, has the configured LLM (SEISMO_LLM_*) triage " +
        'every one, and scores the alerts without triage and with it against the labelled windows.',
    )
    .option('--data <dir>', 'NAB-format corpus: data/, labels/combined_windows.json', defaultDataDir())
    .option(
      '--max-candidates <n>',
      'most candidates triaged (the spend); files past it are left out whole',
      parsePositive,
      DEFAULT_MAX_CANDIDATES,
    )
    .option('--concurrency <n>', 'LLM calls at once (default SEISMO_LLM_CONCURRENCY)', parsePositive)
    .option('--out <file.json>', 'write the JSON report here instead of stdout')
    .showHelpAfterError()
    .parse(argv);
  return program.opts<CliOptions>();
}

function parsePositive(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError('expected an integer >= 1');
  return n;
}

export function summaryOf(r: TriageEvalReport): string {
  const t = r.total;
  const v = t.verdicts;
  const lines: string[] = [];
  lines.push(
    `${r.provider} ${r.model} on ${r.data}: ${r.files.length} files, ${t.candidates} candidates triaged` +
      (r.filesNotReached.length > 0
        ? ` (${r.candidatesNotReached} in ${r.filesNotReached.length} files past --max-candidates)`
        : '') +
      `, ${t.windows} windows (${r.elapsedSeconds.toFixed(1)} s)`,
  );
  const reasons = Object.entries(v.skippedBy)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason} ${n}`);
  lines.push(
    `verdicts: anomaly ${v.anomaly}, expected ${v.expected}, uncertain ${v.uncertain}, skipped ${v.skipped}` +
      (reasons.length > 0 ? ` (${reasons.join(', ')})` : '') +
      `; expected inside windows ${v.insideWindows.expected}, outside ${v.outsideWindows.expected}`,
  );
  lines.push(`${'file'.padEnd(56)}  cand  a/e/u/s      none tp/fp  suppress tp/fp  windows`);
  const row = (name: string, f: TriageTally) => {
    const s = f.withTriage.suppress;
    return (
      `${name.padEnd(56)} ${String(f.candidates).padStart(5)}` +
      `  ${`${f.verdicts.anomaly}/${f.verdicts.expected}/${f.verdicts.uncertain}/${f.verdicts.skipped}`.padEnd(11)}` +
      ` ${`${f.withoutTriage.tp}/${f.withoutTriage.fp}`.padStart(12)}` +
      ` ${`${s.tp}/${s.fp}`.padStart(15)}` +
      ` ${`${f.withoutTriage.windowsDetected}>${s.windowsDetected}/${f.windows}`.padStart(8)}`
    );
  };
  for (const f of r.files) lines.push(row(f.name, f));
  lines.push(row('total', t));
  const rate = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
  const arm = (name: string, a: TriageTally['withoutTriage']) =>
    `${name.padEnd(16)} alerts ${a.alerts} (tp ${a.tp}, fp ${a.fp}), precision ${rate(a.precision)}, ` +
    `windows ${a.windowsDetected}/${t.windows}, recall ${rate(a.recall)}`;
  lines.push(arm('without triage', t.withoutTriage));
  for (const policy of TRIAGE_POLICIES) {
    const a = t.withTriage[policy];
    lines.push(
      `${arm(policy, a)}; ${a.quiet} quiet, ${a.lowered} lowered, fp removed ${a.fpRemoved}, tp removed ${a.tpRemoved}`,
    );
  }
  const u = r.usage;
  const per = u.per1000Candidates;
  lines.push(
    `tokens in ${u.tokensIn}, out ${u.tokensOut}, $${u.costUsd.toFixed(4)}` +
      (per
        ? `; per 1,000 candidates ${per.tokensIn} in, ${per.tokensOut} out, $${per.costUsd.toFixed(4)}`
        : ''),
  );
  return `${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<void> {
  const { out, ...options } = parseArguments(argv);
  const outcome = await runTriageEval(options, process.env);
  if (outcome.status === 'no-provider') {
    process.stderr.write(`${outcome.message}\n`);
    return;
  }
  const { report } = outcome;
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (out !== undefined) {
    await mkdir(path.dirname(path.resolve(out)), { recursive: true });
    await writeFile(out, json);
  } else {
    process.stdout.write(json);
  }
  process.stderr.write(summaryOf(report));
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

if (require.main === module) {
  main(process.argv).catch((e: unknown) => {
    process.stderr.write(`eval:triage: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
