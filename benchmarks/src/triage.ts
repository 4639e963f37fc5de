import { SKIP_REASONS } from '@seismo/llm/triage.scheduler';
import { overheadShare, type OverheadShare } from './overhead';
import { type ComparableResult } from './result';
import { mean } from './statistics';
import { METRIC, seriesLabels, type Workload } from './workload';

/**
 * The arithmetic of the `triage` benchmark (triage.bench.ts): its arms and their order,
 * where its load's spikes fall, what it reads of the server's LLM gauges, and what its two
 * arms' figures say about the 5% target.
 */

/** `off`: the LLM configured, the tenant's triage off; `on`: the tenant's triage on. */
export const TRIAGE_ARMS = ['off', 'on'] as const;
export type TriageArm = (typeof TRIAGE_ARMS)[number];

/** The done-when: throughput with triage on, the provider answering in 2 s, within 5% of triage off. */
export const TRIAGE_TARGET = 0.05;

/** A spike is the series' value times this: past warm-up, the ensemble flags it. */
export const SPIKE_FACTOR = 10;

/**
 * `pairs` processes of each arm, interleaved, alternating which goes first (off on on
 * off...), so that a change in the machine's load falls on both arms alike and neither
 * always runs in the other's wake (see overheadOrder).
 */
export function triageOrder(pairs: number): TriageArm[] {
  if (!(Number.isSafeInteger(pairs) && pairs >= 1))
    throw new RangeError(`pairs must be a positive integer, got ${pairs}`);
  const order: TriageArm[] = [];
  for (let pair = 0; pair < pairs; pair++) {
    order.push(...(pair % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)));
  }
  return order;
}

/**
 * The pipeline workload with one point in every `every` of the stream made a spike, from
 * stream point `spikesFrom` on (before it, the detectors warm up on steady points). In
 * block b (points b*every .. b*every+every-1) the spike is at offset b*stride mod every,
 * with a stride prime to `every` near its golden section: the spikes walk over every
 * offset before one comes back, so with as many series as `every` each series is spiked
 * once per `every` of its samples, never twice in a row, and the spiked series look
 * scattered rather than marching one by one.
 */
export class SpikedWorkload {
  private readonly stride: number;
  /** Each point's JSON up to its `ts`, as Workload.jsonBody writes it. */
  private readonly jsonPrefixes: string[];

  constructor(
    readonly workload: Workload,
    readonly every: number,
    readonly spikesFrom = 0,
  ) {
    if (!(Number.isSafeInteger(every) && every >= 1))
      throw new RangeError(`every must be a positive integer, got ${every}`);
    if (!(Number.isSafeInteger(spikesFrom) && spikesFrom >= 0))
      throw new RangeError(`spikesFrom must be an integer >= 0, got ${spikesFrom}`);
    this.stride = coprimeNear(every, Math.round(every * 0.618));
    this.jsonPrefixes = Array.from(
      { length: workload.count },
      (_, i) => `{"series":"${METRIC}","labels":${JSON.stringify(seriesLabels(i))},"ts":`,
    );
  }

  isSpike(k: number): boolean {
    if (k < this.spikesFrom) return false;
    const block = Math.floor(k / this.every);
    // Exact in doubles: block * stride < k * every, far below 2^53 for any stream here.
    return k - block * this.every === (block * this.stride) % this.every;
  }

  /** Spikes among stream points from..to-1. */
  spikesIn(from: number, to: number): number {
    let count = 0;
    for (let k = from; k < to; k++) if (this.isSpike(k)) count++;
    return count;
  }

  /** `POST /v1/points` body holding stream points from..to-1, spikes included. */
  jsonBody(from: number, to: number): string {
    const parts: string[] = [];
    for (let k = from; k < to; k++) {
      const { series, ts, value } = this.workload.point(k);
      const sent = this.isSpike(k) ? value * SPIKE_FACTOR : value;
      parts.push(`${this.jsonPrefixes[series]}${ts},"value":${sent}}`);
    }
    return `{"points":[${parts.join(',')}]}`;
  }
}

/** The smallest integer >= `from` (and >= 1) sharing no factor with n. */
function coprimeNear(n: number, from: number): number {
  for (let s = Math.max(1, from); ; s++) if (gcd(s, n) === 1) return s;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The outcomes `seismo_llm_jobs` counts: done, cached, and every reason a job was skipped. */
export const LLM_JOB_OUTCOMES = ['done', 'cached', ...SKIP_REASONS] as const;
export type LlmJobOutcome = (typeof LLM_JOB_OUTCOMES)[number];

/**
 * The `seismo_llm_jobs{outcome="..."}` samples of a Prometheus text exposition, by
 * outcome; an outcome the exposition lacks counts 0. Undefined when it has none at all:
 * the server runs no LLM triage.
 */
export function llmJobCounts(exposition: string): Record<LlmJobOutcome, number> | undefined {
  const counts = Object.fromEntries(LLM_JOB_OUTCOMES.map((outcome) => [outcome, 0])) as Record<
    LlmJobOutcome,
    number
  >;
  let found = false;
  for (const line of exposition.split('\n')) {
    const match = /^seismo_llm_jobs\{outcome="([a-z_]+)"\} (\S+)/.exec(line);
    if (!match) continue;
    found = true;
    const outcome = LLM_JOB_OUTCOMES.find((o) => o === match[1]);
    if (outcome) counts[outcome] = Number(match[2]);
  }
  return found ? counts : undefined;
}

/** Each outcome's count in `after` less the one in `before`: what happened between two scrapes. */
export function jobsBetween(
  before: Readonly<Record<LlmJobOutcome, number>>,
  after: Readonly<Record<LlmJobOutcome, number>>,
): Record<LlmJobOutcome, number> {
  return Object.fromEntries(LLM_JOB_OUTCOMES.map((o) => [o, after[o] - before[o]])) as Record<
    LlmJobOutcome,
    number
  >;
}

/** The figure a job outcome is reported under: `llmJobsDone`, `llmJobsQueueFull`... */
export function jobFigureName(outcome: LlmJobOutcome): string {
  return `llmJobs${outcome.replace(/(^|_)([a-z])/g, (_, __, letter: string) => letter.toUpperCase())}`;
}

/** The counts an arm's processes add up to over their timed runs. */
export type TriageCounts = Readonly<Record<string, number>>;

/** The summary line of a triage run, after its per-process lines. */
export interface TriageSummary {
  readonly benchmark: 'triage-summary';
  readonly target: number;
  /** Judged on stored points/s: `pass` when the whole interval of the slowdown is under the target. */
  readonly verdict: OverheadShare['verdict'];
  /** 1 - on/off of stored points/s, its 95% interval (Fieller) and Welch's p. */
  readonly stored: OverheadShare;
  /** The same for accepted points/s (the last 202). */
  readonly accepted: OverheadShare;
  /** Per arm, each process's mean stored points/s over its timed runs: the samples compared. */
  readonly samples: Readonly<Record<TriageArm, readonly number[]>>;
  /** Per arm, the counting figures (spikes, anomalies, LLM calls, jobs by outcome) summed over its processes. */
  readonly counts: Readonly<Record<TriageArm, TriageCounts>>;
  /** Per arm, what was still waiting as its processes' timed runs ended (anomalies, LLM jobs): their mean. */
  readonly atEnd: Readonly<Record<TriageArm, TriageCounts>>;
}

/** Figures that count what happened: summed over an arm's processes in the summary. */
const COUNT_UNITS = new Set(['spikes', 'anomalies', 'calls', 'jobs']);
/** Figures of what was waiting at a process's end: averaged. */
const WAITING_UNIT = / waiting$/;

/**
 * Reads the per-process lines of the triage benchmark (other lines are skipped) and
 * judges the target. One sample per process: the mean of its timed runs, which share its
 * JIT and heap and so are not independent samples.
 */
export function summarizeTriage(results: readonly ComparableResult[], target = TRIAGE_TARGET): TriageSummary {
  const lines = results.filter((r) => r.benchmark === 'triage');
  const arm = (name: TriageArm): readonly ComparableResult[] => lines.filter((r) => r.params.arm === name);
  const samples = (name: TriageArm, figureName: string): number[] =>
    arm(name).map((r) => {
      const f = r.figures[figureName];
      if (!f) throw new Error(`a triage line of arm ${name} has no '${figureName}'`);
      return mean(f.runs);
    });
  const share = (figureName: string): OverheadShare =>
    overheadShare(samples('on', figureName), samples('off', figureName), target);
  const counts = (name: TriageArm, kept: (unit: string) => boolean): Record<string, number[]> => {
    const values: Record<string, number[]> = {};
    for (const r of arm(name)) {
      for (const [figureName, f] of Object.entries(r.figures)) {
        if (kept(f.unit)) (values[figureName] ??= []).push(f.runs.reduce((a, b) => a + b, 0));
      }
    }
    return values;
  };
  const sums = (name: TriageArm): TriageCounts =>
    mapValues(
      counts(name, (unit) => COUNT_UNITS.has(unit)),
      (xs) => xs.reduce((a, b) => a + b, 0),
    );
  const means = (name: TriageArm): TriageCounts =>
    mapValues(
      counts(name, (unit) => WAITING_UNIT.test(unit)),
      (xs) => mean(xs),
    );
  const stored = share('storedPointsPerSecond');
  return {
    benchmark: 'triage-summary',
    target,
    verdict: stored.verdict,
    stored,
    accepted: share('acceptedPointsPerSecond'),
    samples: { off: samples('off', 'storedPointsPerSecond'), on: samples('on', 'storedPointsPerSecond') },
    counts: { off: sums('off'), on: sums('on') },
    atEnd: { off: means('off'), on: means('on') },
  };
}

function mapValues<T>(record: Readonly<Record<string, T>>, f: (value: T) => number): Record<string, number> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, f(value)]));
}
