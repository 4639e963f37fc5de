import {
  type ClickHouseAccess,
  describeCause,
  nextRowVersion,
  parseTenantId,
  StorageException,
  StorageExceptionCode,
  type TenantId,
} from '@seismo/storage';
import { type Feedback, type FeedbackLabel } from './feedback';
import { type FeedbackSuppressor } from './feedback.suppressor';

interface FeedbackRow {
  tenant_id: string;
  anomaly_id: string;
  series: string;
  ts_ms: string;
  label: FeedbackLabel;
  note: string;
  actor: string;
  created_ms: string;
  direction: number;
  magnitude: number;
  detectors: string[];
  score: number;
}

const COLUMNS = `tenant_id, anomaly_id, series, toUnixTimestamp64Milli(ts) AS ts_ms, label, note, actor,
                 toUnixTimestamp64Milli(created_at) AS created_ms, direction, magnitude, detectors, score`;

/**
 * The only code that reads or writes `anomaly_feedback` (migration 0014). Writes resolve
 * once ClickHouse stored the row; reads use FINAL, so the latest label of an anomaly is
 * the one read.
 */
/** A labelled anomaly of a series, as LLM triage is shown it. */
export interface LabelledAnomaly {
  readonly ts: number;
  readonly value: number;
  readonly score: number;
  readonly label: FeedbackLabel;
}

export class FeedbackRepository {
  constructor(private readonly clickhouse: ClickHouseAccess) {}

  /** Stores a label; `retentionDays` is the tenant's anomaly retention, 1..65535. */
  async write(feedback: Feedback, retentionDays: number): Promise<void> {
    const { signature } = feedback;
    try {
      await this.clickhouse.client.command({
        query: `INSERT INTO anomaly_feedback (tenant_id, anomaly_id, series, ts, label, note, actor, created_at,
                                              direction, magnitude, detectors, score, retention_days, version)
                SELECT {tenantId:String}, {anomalyId:String}, {series:String},
                       fromUnixTimestamp64Milli({ts:Int64}, 'UTC'), {label:String}, {note:String}, {actor:String},
                       fromUnixTimestamp64Milli({createdAt:Int64}, 'UTC'), {direction:Int8}, {magnitude:Float64},
                       {detectors:Array(String)}, {score:Float32}, {retention:UInt16}, {version:UInt64}`,
        query_params: {
          tenantId: feedback.tenantId,
          anomalyId: feedback.anomalyId,
          series: feedback.series,
          ts: feedback.anomalyTs,
          label: feedback.label,
          note: feedback.note ?? '',
          actor: feedback.actor,
          createdAt: feedback.createdAt,
          direction: signature.direction,
          magnitude: signature.magnitude,
          detectors: signature.detectors,
          score: signature.score,
          retention: Math.min(65535, Math.max(1, Math.round(retentionDays))),
          version: nextRowVersion(),
        },
      });
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.WRITE_FAILED,
        `storing feedback on anomaly ${feedback.anomalyId} of tenant ${feedback.tenantId} failed: ${describeCause(cause)}`,
        { cause },
      );
    }
  }

  /** The latest label of one of the tenant's anomalies. */
  async latest(tenant: TenantId, anomalyId: string): Promise<Feedback | undefined> {
    const rows = await this.rows<FeedbackRow>(
      `SELECT ${COLUMNS} FROM anomaly_feedback FINAL
       WHERE tenant_id = {tenant:String} AND anomaly_id = {id:String}`,
      { tenant, id: anomalyId },
    );
    return rows[0] && feedbackOf(rows[0]);
  }

  /** The latest label of each of these anomalies of the tenant that has one. */
  async labelsOf(tenant: TenantId, anomalyIds: readonly string[]): Promise<Map<string, FeedbackLabel>> {
    if (anomalyIds.length === 0) return new Map();
    const rows = await this.rows<{ anomaly_id: string; label: FeedbackLabel }>(
      `SELECT anomaly_id, label FROM anomaly_feedback FINAL
       WHERE tenant_id = {tenant:String} AND anomaly_id IN {ids:Array(String)}`,
      { tenant, ids: anomalyIds },
    );
    return new Map(rows.map((r) => [r.anomaly_id, r.label]));
  }

  /**
   * The latest labels of one series, newest first, each with its anomaly's value (NaN when
   * the anomaly itself has expired): the labelled past LLM triage is shown.
   */
  async labelledOfSeries(tenant: TenantId, series: string, limit: number): Promise<LabelledAnomaly[]> {
    const rows = await this.rows<{
      ts_ms: string;
      label: FeedbackLabel;
      score: number;
      value: number | null;
    }>(
      `SELECT toUnixTimestamp64Milli(f.ts) AS ts_ms, f.label AS label, f.score AS score, a.value AS value
       FROM (
         SELECT anomaly_id, ts, label, score, created_at FROM anomaly_feedback FINAL
         WHERE tenant_id = {tenant:String} AND series = {series:String}
         ORDER BY created_at DESC LIMIT {limit:UInt32}
       ) AS f
       LEFT JOIN (
         SELECT id, argMax(value, revision) AS value FROM anomalies
         WHERE tenant_id = {tenant:String} AND series = {series:String} GROUP BY id
       ) AS a ON a.id = f.anomaly_id
       ORDER BY f.created_at DESC
       SETTINGS join_use_nulls = 1`,
      { tenant, series, limit },
    );
    return rows.map((r) => ({
      ts: Number(r.ts_ms),
      label: r.label,
      score: r.score,
      value: r.value === null ? NaN : r.value,
    }));
  }

  /**
   * The latest `perSeries` labels of every series of every tenant, oldest first: what a
   * suppressor holding `perSeries` signatures per series would keep of them all.
   */
  async loadRecent(perSeries: number): Promise<Feedback[]> {
    const rows = await this.rows<FeedbackRow>(
      `SELECT * FROM (
         SELECT ${COLUMNS} FROM anomaly_feedback FINAL
         ORDER BY created_at DESC, anomaly_id
         LIMIT {perSeries:UInt32} BY tenant_id, series
       ) ORDER BY created_ms, anomaly_id`,
      { perSeries },
    );
    return rows.map(feedbackOf);
  }

  /** A suppressor taught every label `loadRecent` finds. */
  async loadInto(suppressor: FeedbackSuppressor, perSeries: number): Promise<FeedbackSuppressor> {
    for (const feedback of await this.loadRecent(perSeries)) suppressor.learn(feedback);
    return suppressor;
  }

  private async rows<T>(query: string, params: Record<string, unknown>): Promise<T[]> {
    try {
      const result = await this.clickhouse.client.query({
        query,
        query_params: params,
        format: 'JSONEachRow',
      });
      return await result.json<T>();
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.READ_FAILED,
        `reading anomaly feedback failed: ${describeCause(cause)}`,
        { cause },
      );
    }
  }
}

function feedbackOf(row: FeedbackRow): Feedback {
  const direction = Number(row.direction);
  return {
    tenantId: parseTenantId(row.tenant_id),
    anomalyId: row.anomaly_id,
    series: row.series,
    anomalyTs: Number(row.ts_ms),
    label: row.label,
    ...(row.note ? { note: row.note } : {}),
    actor: row.actor,
    createdAt: Number(row.created_ms),
    signature: {
      direction: direction > 0 ? 1 : direction < 0 ? -1 : 0,
      magnitude: Number(row.magnitude),
      detectors: row.detectors,
      score: Number(row.score),
    },
  };
}
