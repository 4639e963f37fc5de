import { createHash } from 'node:crypto';
import { Logger, type LoggerService } from '@nestjs/common';
import { type FeedbackRepository, type Severity } from '@seismo/alerting';
import { parseSeriesKey } from '@seismo/ingest';
import {
  type AnomalyTriage,
  ignoredByProfile,
  type LlmTriage,
  moveOf,
  type PastAnomaly,
  type TriageSeverity,
  TRIAGE_WINDOW_BUCKETS,
  TRIAGE_WINDOW_MS,
  triageCacheKey,
  triageJson,
  type WindowPoint,
} from '@seismo/llm';
import { type AnomalyEvent } from '@seismo/engine/pipeline/anomaly-event';
import {
  type AnomalyRecord,
  type AnomalyRepository,
  parseDedupToken,
  type PointRepository,
  type TenantId,
} from '@seismo/storage';
import { type Tenant, type TenantLlmSettings } from '@seismo/tenancy';

const PAST_LABELS = 5;
/** Most triaged rows one write takes. */
const MAX_WRITE_ROWS = 1000;
/** The revision of an anomaly that carries its triage (0 is as detected). */
export const TRIAGED_REVISION = 1;

/** What triage decided for one anomaly's alert. */
export interface TriageDecision {
  readonly triage: AnomalyTriage;
  /** The severity the alert goes out with: never above the statistical one. */
  readonly severity: Severity;
  /** The alert is kept quiet: an `expected` verdict under the tenant's `suppress` policy, or a move its profile says does not matter. */
  readonly quiet: 'expected' | 'direction' | undefined;
}

export interface AnomalyTriagerParts {
  readonly llm: LlmTriage;
  readonly tenant: (id: TenantId) => Tenant | undefined;
  readonly points: PointRepository;
  readonly anomalies: AnomalyRepository;
  readonly feedback: FeedbackRepository;
  /** How long an alert waits for its verdict. */
  readonly waitMs: number;
  /**
   * Labels operators gave the series so far (the feedback the alert path holds): a new one
   * changes the cache key, and with none the series' labelled past is not read.
   */
  readonly labelsOf?: (tenant: TenantId, series: string) => number;
  readonly clock?: () => number;
  readonly logger?: Pick<LoggerService, 'warn'>;
  /** How often triaged rows are written (default 1 s). */
  readonly writeEveryMs?: number;
}

/**
 * The alert path's side of LLM triage: for an anomaly of a tenant that opted in, gathers
 * what the LLM is shown (the series' recent window and baseline from its stored points,
 * or only the anomaly's own context for a zero-retention tenant; the labelled past of the
 * series; its profile), asks, stores the verdict with the anomaly (a new revision of its
 * row, read as `explanation`), and says what it does to the alert.
 */
export class AnomalyTriager {
  private readonly clock: () => number;
  private readonly logger: Pick<LoggerService, 'warn'>;
  /** Triaged rows waiting for the next write. */
  private waiting: AnomalyRecord[] = [];
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly writeEveryMs: number;

  constructor(private readonly parts: AnomalyTriagerParts) {
    this.clock = parts.clock ?? Date.now;
    this.logger = parts.logger ?? new Logger(AnomalyTriager.name);
    this.writeEveryMs = parts.writeEveryMs ?? 1000;
  }

  /** The tenant's settings when its anomalies are triaged. */
  settingsOf(tenant: TenantId): TenantLlmSettings | undefined {
    const settings = this.parts.tenant(tenant)?.llm;
    return settings?.triage ? settings : undefined;
  }

  /**
   * Never rejects: whatever fails, the anomaly alerts with `triage: skipped` or its verdict.
   * Nothing is read before the scheduler takes the candidate: its window and labelled past
   * are read in the call's slot (`gather`), so a burst of anomalies costs reads at the LLM's
   * pace, and the queue's bound (dropping the least severe) is the only backlog there is.
   */
  async judge(event: AnomalyEvent, severity: Severity): Promise<TriageDecision> {
    const tenantId = event.tenant_id as TenantId;
    const tenant = this.parts.tenant(tenantId);
    const settings = tenant?.llm;
    if (!tenant || !settings?.triage) {
      return { triage: { status: 'skipped', reason: 'stopped' }, severity, quiet: undefined };
    }
    const started = this.clock();
    const identity = parseSeriesKey(event.series);
    const metric = identity?.metric ?? event.series;
    const labels = identity?.labels ?? {};
    const ts = Date.parse(event.ts);
    const privacy = { redactLabels: settings.redactLabels, zeroRetention: tenant.zeroRetention };
    const context = contextOf(event);
    const left = () => Math.max(0, this.parts.waitMs - (this.clock() - started));
    const profile = settings.profiling
      ? await this.parts.llm.profile(tenantId, metric, labels, context, privacy, left())
      : undefined;
    const known = {
      tenantId,
      anomalyId: event.id,
      metric,
      labels,
      ts,
      value: event.value,
      score: event.score,
      severity: severity as TriageSeverity,
      detectors: event.detectors,
      ...(profile ? { profile } : {}),
    };
    let window: WindowPoint[] = context;
    // The labels operators gave the series, as the alert path holds them: none, and its
    // labelled past is not read (one query less in the call's slot, against the ClickHouse
    // the engine writes to). Unknown (no count given): read.
    const labelled = this.parts.labelsOf?.(tenantId, event.series);
    const triage = await this.parts.llm.triageLazily(
      {
        tenantId,
        anomalyId: event.id,
        score: event.score,
        // What is known without a read: the anomaly's own context and how many labels its series has.
        cacheKey: `${triageCacheKey({ ...known, window: context, past: [] }, privacy.redactLabels)}/${labelled ?? 0}`,
        gather: async () => {
          const [stored, past] = await Promise.all([
            this.windowOf(tenant, event, ts, context),
            labelled === 0 ? [] : this.pastOf(tenantId, event.series),
          ]);
          window = stored;
          return { ...known, window, past };
        },
      },
      privacy,
      left(),
    );
    // A candidate let go because the process stops taught nothing worth a write.
    if (!(triage.status === 'skipped' && triage.reason === 'stopped')) this.store(tenant, event, triage);
    return decide(triage, severity, settings, ignoredByProfile(profile, moveOf(event.value, window)));
  }

  /** Writes the triaged rows waiting; resolves once every triage so far is stored (or its write failed, logged). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiting.length > 0) {
      const rows = this.waiting;
      this.waiting = [];
      this.writing = this.writing.then(() => this.write(rows));
    }
    return this.writing;
  }

  private async write(rows: readonly AnomalyRecord[]): Promise<void> {
    const names = createHash('sha256')
      .update(rows.map((r) => `${r.tenantId}/${r.id}`).join('\n'))
      .digest('hex');
    try {
      await this.parts.anomalies.insertBatch(rows, parseDedupToken(`triage/${names.slice(0, 40)}`));
    } catch (error) {
      this.logger.warn(`storing the triage of ${rows.length} anomalies failed: ${messageOf(error)}`);
    }
  }

  /**
   * The series' stored week up to the anomaly (the first point of every five minutes,
   * and the anomalous point), else the anomaly's context. One small query per call: a read of the
   * raw points cost the engine's writes, which share embedded ClickHouse with it, about
   * 2.5 times as much.
   */
  private async windowOf(
    tenant: Tenant,
    event: AnomalyEvent,
    ts: number,
    context: WindowPoint[],
  ): Promise<WindowPoint[]> {
    if (tenant.zeroRetention) return context;
    try {
      const stored = await this.parts.points.window(
        tenant.id,
        event.series,
        ts,
        TRIAGE_WINDOW_MS,
        TRIAGE_WINDOW_BUCKETS,
      );
      // The engine writes the points and the anomaly together; a window without the point itself is too early.
      return stored.length > 0 && stored[stored.length - 1].ts === ts ? stored : context;
    } catch (error) {
      this.logger.warn(
        `reading the window of ${event.id} failed, triaging on its context: ${messageOf(error)}`,
      );
      return context;
    }
  }

  private async pastOf(tenant: TenantId, series: string): Promise<PastAnomaly[]> {
    try {
      const labelled = await this.parts.feedback.labelledOfSeries(tenant, series, PAST_LABELS);
      return labelled.filter((l) => Number.isFinite(l.value));
    } catch (error) {
      this.logger.warn(`reading the labelled past of ${series} failed: ${messageOf(error)}`);
      return [];
    }
  }

  /**
   * The anomaly's row again with its triage, one revision up, read in its place. Rows are
   * written together at most once every `writeEveryMs` (or at 1,000 rows): a small INSERT
   * per verdict would be a part per verdict for ClickHouse to merge, and each statement
   * waits its turn with the engine's writes in embedded ClickHouse. Each write goes under a
   * token naming its rows, so a retried one stores them once.
   */
  private store(tenant: Tenant, event: AnomalyEvent, triage: AnomalyTriage): void {
    this.waiting.push({
      tenantId: tenant.id,
      id: event.id,
      series: event.series,
      ts: Date.parse(event.ts),
      value: event.value,
      score: event.score,
      severity: event.severity,
      detectors: event.detectors,
      context: { ts: event.context.ts.map((t) => Date.parse(t)), values: event.context.values },
      explanation: JSON.stringify(triageJson(triage)),
      revision: TRIAGED_REVISION,
      createdAt: this.clock(),
      retentionDays: tenant.anomaliesDays,
    });
    if (this.waiting.length >= MAX_WRITE_ROWS) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.writeEveryMs);
      this.timer.unref();
    }
  }
}

function contextOf(event: AnomalyEvent): WindowPoint[] {
  return event.context.ts.map((t, i) => ({ ts: Date.parse(t), value: event.context.values[i] }));
}

const RANK: Readonly<Record<TriageSeverity, number>> = { info: 0, warning: 1, critical: 2 };

/**
 * What a verdict does: the LLM may lower an alert's severity or keep it quiet, never raise
 * it or make one. `expected` follows the tenant's policy: `suppress` keeps it quiet,
 * `downgrade` sends it as info, `annotate` sends it unchanged with the verdict shown.
 */
export function decide(
  triage: AnomalyTriage,
  severity: Severity,
  settings: Pick<TenantLlmSettings, 'expectedPolicy'>,
  directionIgnored: boolean,
): TriageDecision {
  if (directionIgnored) return { triage, severity, quiet: 'direction' };
  if (triage.status !== 'done') return { triage, severity, quiet: undefined };
  if (triage.verdict === 'expected') {
    if (settings.expectedPolicy === 'suppress') return { triage, severity, quiet: 'expected' };
    if (settings.expectedPolicy === 'downgrade') return { triage, severity: 'info', quiet: undefined };
    return { triage, severity, quiet: undefined };
  }
  const lowered = RANK[triage.severity] < RANK[severity] ? triage.severity : severity;
  return { triage, severity: lowered, quiet: undefined };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
