import { type ExpectedPolicy } from '@seismo/tenancy';
import { type AnomalyTriage, type LlmUsage, SKIP_REASONS, type SkipReason } from '@seismo/llm';
import { decide } from '../../apps/api/src/alerting/anomaly.triager';
import { replayAlerts } from './alert-replay';
import { type EmittedAnomaly } from './anomaly-stream';
import { type ArmCounts, tallyFile, windowOf } from './feedback-tally';
import { type LabelWindow } from './scorer';
import { alertSeverityOf } from './triage-candidate';

/** The two arms with triage: what an `expected` verdict does, as a tenant's `expectedPolicy` says. */
export const TRIAGE_POLICIES = ['suppress', 'downgrade'] as const satisfies readonly ExpectedPolicy[];
export type TriagePolicy = (typeof TRIAGE_POLICIES)[number];

/** An arm's alerts, with precision (alerts inside a window) and recall (windows with an alert). */
export interface ArmFigures extends ArmCounts {
  /** tp / alerts; null without alerts. */
  precision: number | null;
  /** windowsDetected / windows; null without windows. */
  recall: number | null;
}

export interface TriagedArmFigures extends ArmFigures {
  /** Candidates kept from the incidents: an `expected` verdict under `suppress`. */
  quiet: number;
  /** Candidates that went on at a lower severity than the engine graded. */
  lowered: number;
  /** False-positive alerts without triage less those with it. */
  fpRemoved: number;
  tpRemoved: number;
  /** Windows detected without triage and not with it. */
  windowsLost: number;
  windowsGained: number;
}

export interface VerdictCounts {
  anomaly: number;
  expected: number;
  uncertain: number;
  /** No verdict: the anomaly alerts as the engine graded it. */
  skipped: number;
}

export interface VerdictTally extends VerdictCounts {
  /** Verdicts answered without a call of their own (the scheduler's cache, or a like candidate's call). */
  cached: number;
  /** For scoring only: the verdicts on candidates inside a labelled window, and outside every one. */
  insideWindows: VerdictCounts;
  outsideWindows: VerdictCounts;
  skippedBy: Record<SkipReason, number>;
}

/** The triage benchmark's figures for a file, or summed over files. */
export interface TriageTally {
  windows: number;
  /** The engine's anomalies, each one triaged. */
  candidates: number;
  withoutTriage: ArmFigures;
  withTriage: Record<TriagePolicy, TriagedArmFigures>;
  verdicts: VerdictTally;
}

export interface FileTriageTally extends TriageTally {
  readonly name: string;
}

/** A file as the tally needs it: its rows' clock and, to score, its labelled windows. */
export interface ScoredSeries {
  readonly name: string;
  readonly timestamps: ArrayLike<number>;
  readonly windows: readonly LabelWindow[];
}

/**
 * One file's anomalies through the alert path without triage and with it, once per policy:
 * each triage decided as the API decides it (`decide`), a quiet anomaly kept from the
 * incidents and the others folded in at the severity decided, as AlertingService does.
 * `triages[i]` is the triage of `anomalies[i]`.
 */
export function tallyTriagedFile(
  series: ScoredSeries,
  anomalies: readonly EmittedAnomaly[],
  triages: readonly AnomalyTriage[],
): FileTriageTally {
  if (triages.length !== anomalies.length) {
    throw new Error(`${series.name}: ${anomalies.length} anomalies but ${triages.length} triages`);
  }
  const { name, timestamps, windows } = series;
  const without = replayAlerts({ series: name, timestamps, anomalies, windows });
  const arm = (policy: TriagePolicy) => {
    let quiet = 0;
    let lowered = 0;
    const decided: EmittedAnomaly[] = [];
    anomalies.forEach((anomaly, i) => {
      const severity = alertSeverityOf(anomaly.record.severity);
      const decision = decide(triages[i], severity, { expectedPolicy: policy }, false);
      if (decision.quiet) {
        quiet++;
        return;
      }
      if (decision.severity !== severity) lowered++;
      decided.push({ index: anomaly.index, record: { ...anomaly.record, severity: decision.severity } });
    });
    const replay = replayAlerts({ series: name, timestamps, anomalies: decided, windows });
    const t = tallyFile(name, windows.length, anomalies.length, without, replay);
    const figures: TriagedArmFigures = {
      ...withRates(t.withFeedback, windows.length),
      quiet,
      lowered,
      fpRemoved: t.fpRemoved,
      tpRemoved: t.tpRemoved,
      windowsLost: t.windowsLost,
      windowsGained: t.windowsGained,
    };
    return { figures, without: t.withoutFeedback };
  };
  const suppress = arm('suppress');
  const downgrade = arm('downgrade');
  const verdicts = emptyVerdicts();
  anomalies.forEach((anomaly, i) => {
    const inside = windowOf(windows, anomaly.record.ts) >= 0;
    countVerdict(verdicts, inside ? verdicts.insideWindows : verdicts.outsideWindows, triages[i]);
  });
  return {
    name,
    windows: windows.length,
    candidates: anomalies.length,
    withoutTriage: withRates(suppress.without, windows.length),
    withTriage: { suppress: suppress.figures, downgrade: downgrade.figures },
    verdicts,
  };
}

/** The files' figures summed, precision and recall taken over the sums. */
export function totalTriage(files: readonly TriageTally[]): TriageTally {
  const total: TriageTally = {
    windows: 0,
    candidates: 0,
    withoutTriage: withRates(emptyCounts(), 0),
    withTriage: { suppress: emptyArm(), downgrade: emptyArm() },
    verdicts: emptyVerdicts(),
  };
  for (const f of files) {
    total.windows += f.windows;
    total.candidates += f.candidates;
    add(total.withoutTriage, f.withoutTriage, ARM_KEYS);
    for (const policy of TRIAGE_POLICIES) add(total.withTriage[policy], f.withTriage[policy], TRIAGED_KEYS);
    add(total.verdicts, f.verdicts, [...VERDICT_KEYS, 'cached']);
    add(total.verdicts.insideWindows, f.verdicts.insideWindows, VERDICT_KEYS);
    add(total.verdicts.outsideWindows, f.verdicts.outsideWindows, VERDICT_KEYS);
    add(total.verdicts.skippedBy, f.verdicts.skippedBy, SKIP_REASONS);
  }
  Object.assign(total.withoutTriage, withRates(total.withoutTriage, total.windows));
  for (const policy of TRIAGE_POLICIES) {
    Object.assign(total.withTriage[policy], withRates(total.withTriage[policy], total.windows));
  }
  return total;
}

/** Tokens and what they cost at the configured prices (USD per million tokens). */
export interface TriageUsage {
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  prices: { inPerMillion: number; outPerMillion: number };
  /** Per 1,000 candidates triaged; null when none was. */
  per1000Candidates: { tokensIn: number; tokensOut: number; costUsd: number } | null;
}

export function usageFigures(
  tokens: LlmUsage,
  prices: TriageUsage['prices'],
  candidates: number,
): TriageUsage {
  const costUsd =
    (tokens.inputTokens * prices.inPerMillion + tokens.outputTokens * prices.outPerMillion) / 1e6;
  const per = (n: number) => (n * 1000) / candidates;
  return {
    tokensIn: tokens.inputTokens,
    tokensOut: tokens.outputTokens,
    costUsd: microDollars(costUsd),
    prices: { ...prices },
    per1000Candidates:
      candidates > 0
        ? {
            tokensIn: Math.round(per(tokens.inputTokens)),
            tokensOut: Math.round(per(tokens.outputTokens)),
            costUsd: microDollars(per(costUsd)),
          }
        : null,
  };
}

const ARM_KEYS = ['alerts', 'tp', 'fp', 'windowsDetected'] as const;
const TRIAGED_KEYS = [
  ...ARM_KEYS,
  'quiet',
  'lowered',
  'fpRemoved',
  'tpRemoved',
  'windowsLost',
  'windowsGained',
] as const;
const VERDICT_KEYS = ['anomaly', 'expected', 'uncertain', 'skipped'] as const;

function withRates(counts: ArmCounts, windows: number): ArmFigures {
  const { alerts, tp, fp, windowsDetected } = counts;
  return {
    alerts,
    tp,
    fp,
    windowsDetected,
    precision: alerts > 0 ? tp / alerts : null,
    recall: windows > 0 ? windowsDetected / windows : null,
  };
}

function countVerdict(tally: VerdictTally, side: VerdictCounts, triage: AnomalyTriage): void {
  if (triage.status === 'skipped') {
    tally.skipped++;
    side.skipped++;
    tally.skippedBy[triage.reason]++;
    return;
  }
  tally[triage.verdict]++;
  side[triage.verdict]++;
  if (triage.cached) tally.cached++;
}

function emptyCounts(): ArmCounts {
  return { alerts: 0, tp: 0, fp: 0, windowsDetected: 0 };
}

function emptyArm(): TriagedArmFigures {
  return {
    ...withRates(emptyCounts(), 0),
    quiet: 0,
    lowered: 0,
    fpRemoved: 0,
    tpRemoved: 0,
    windowsLost: 0,
    windowsGained: 0,
  };
}

function emptyVerdicts(): VerdictTally {
  const counts = (): VerdictCounts => ({ anomaly: 0, expected: 0, uncertain: 0, skipped: 0 });
  return {
    ...counts(),
    cached: 0,
    insideWindows: counts(),
    outsideWindows: counts(),
    skippedBy: Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>,
  };
}

function add<K extends string>(
  into: Record<K, number>,
  from: Readonly<Record<K, number>>,
  keys: readonly K[],
) {
  for (const key of keys) into[key] += from[key];
}

/** Whole millionths of a dollar: no 0.30000000000000004 in the report. */
function microDollars(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
