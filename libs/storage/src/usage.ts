import { createHash } from 'node:crypto';
import { type TenantId } from './tenant-id';

/**
 * What Seismo meters, per tenant per hour. `active_series` is the number of distinct
 * series seen in a bucket; every other meter is a sum.
 *
 * `alerts_delivered` and `llm_tokens_in`/`llm_tokens_out` are defined before anything
 * produces them (alerting and LLM triage do not exist yet): they read 0 until a producer
 * writes a UsageRecord with them set, in the same durable step as the work it counts.
 * The seam, for the alert dispatcher and LLM triage: once a batch of deliveries (or of
 * triage answers) is durable in its own log, write
 * `usage.insertBatch([{ ...emptyUsage(tenant, hourOf(now)), alertsDelivered: n }], token)`
 * with a dedup token derived from that batch's identity (e.g. `alerts/<first id>-<last id>`),
 * so that a retried write counts it once; billing and GET /v1/usage pick it up unchanged.
 */
export const USAGE_METERS = [
  'points_ingested',
  'points_scored',
  'points_rejected',
  'active_series',
  'anomalies',
  'alerts_delivered',
  'llm_tokens_in',
  'llm_tokens_out',
] as const;

export type UsageMeter = (typeof USAGE_METERS)[number];

export type UsageCounts = Record<UsageMeter, number>;

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** The start of the UTC hour holding `ms` (epoch milliseconds). */
export function hourOf(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/**
 * One tenant's counts for one hour, as one write adds them: rows of the same tenant and
 * hour add up (and their series sets unite) when read.
 */
export interface UsageRecord {
  readonly tenantId: TenantId;
  /** Start of the hour, epoch milliseconds, a multiple of HOUR_MS. */
  readonly hour: number;
  readonly pointsIngested: number;
  readonly pointsScored: number;
  readonly pointsRejected: number;
  readonly anomalies: number;
  readonly alertsDelivered: number;
  readonly llmTokensIn: number;
  readonly llmTokensOut: number;
  /** `seriesHash` of each distinct series seen, in any order. */
  readonly seriesHashes: readonly bigint[];
}

/** A UsageRecord with every count 0: what a producer starts from and adds to. */
export function emptyUsage(tenantId: TenantId, hour: number): UsageRecord {
  return {
    tenantId,
    hour,
    pointsIngested: 0,
    pointsScored: 0,
    pointsRejected: 0,
    anomalies: 0,
    alertsDelivered: 0,
    llmTokensIn: 0,
    llmTokensOut: 0,
    seriesHashes: [],
  };
}

/**
 * A series' identity in the active-series sets: the first 8 bytes of its SHA-1. 64 bits
 * keep the sets at 8 bytes a series; two of a tenant's series would share a hash with a
 * chance near n²/2⁶⁵ (1e-8 for a million series). Computed once per distinct series per
 * batch, not per point.
 */
export function seriesHash(series: string): bigint {
  return createHash('sha1').update(series, 'utf8').digest().readBigUInt64BE(0);
}

/** Counts of one bucket of GET /v1/usage: an hour or a UTC day. */
export interface UsageBucket {
  /** Start of the bucket, epoch milliseconds. */
  readonly start: number;
  readonly counts: UsageCounts;
}

export type UsageGranularity = 'hour' | 'day';

export interface UsageQuery {
  /** Inclusive, epoch milliseconds; rounded down to its bucket. */
  readonly from: number;
  /** Exclusive, epoch milliseconds. */
  readonly to: number;
  readonly granularity: UsageGranularity;
}

/** One tenant's counts for one closed hour: what billing turns into meter events. */
export interface HourlyUsage {
  readonly tenantId: TenantId;
  readonly hour: number;
  readonly counts: UsageCounts;
}

/**
 * `rows` as one row per tenant and hour: counts summed, series hashes united. What the
 * same rows would read as once stored, in fewer rows.
 */
export function mergeUsage(rows: readonly UsageRecord[]): UsageRecord[] {
  const merged = new Map<string, { row: UsageRecord; hashes: Set<bigint> }>();
  for (const row of rows) {
    const key = `${row.tenantId}\0${row.hour}`;
    const entry = merged.get(key);
    if (!entry) {
      merged.set(key, { row, hashes: new Set(row.seriesHashes) });
      continue;
    }
    const sum = entry.row;
    entry.row = {
      ...sum,
      pointsIngested: sum.pointsIngested + row.pointsIngested,
      pointsScored: sum.pointsScored + row.pointsScored,
      pointsRejected: sum.pointsRejected + row.pointsRejected,
      anomalies: sum.anomalies + row.anomalies,
      alertsDelivered: sum.alertsDelivered + row.alertsDelivered,
      llmTokensIn: sum.llmTokensIn + row.llmTokensIn,
      llmTokensOut: sum.llmTokensOut + row.llmTokensOut,
    };
    for (const hash of row.seriesHashes) entry.hashes.add(hash);
  }
  return [...merged.values()].map(({ row, hashes }) => ({ ...row, seriesHashes: [...hashes] }));
}
