import { type AnomalyContext, type AnomalyQuery, type AnomalyRecord, type StoredAnomaly } from './anomaly';
import { insertBatch } from './batch.insert';
import { type ClickHouseAccess } from './clickhouse.connection';
import { toDateTime64Text } from './datetime64';
import { type DedupToken } from './dedup-token';
import { requireInstant, requireQueryInteger, requireQueryNumber, requireQueryText } from './query.guard';
import {
  invalidRecord,
  MAX_SERIES_LENGTH,
  requireEpochMillis,
  requireFinite,
  requireInteger,
  requireText,
} from './record.guard';
import { describeCause, StorageException, StorageExceptionCode } from './storage.exception';
import { type TenantId } from './tenant-id';

/** Most anomalies one `find` returns. */
export const MAX_ANOMALY_LIMIT = 10_000;
/** Longest context window stored with an anomaly. */
export const MAX_CONTEXT_POINTS = 10_000;

/** The columns `anomalyTuple` fills, in its order. */
const ANOMALY_COLUMNS = [
  'tenant_id',
  'id',
  'series',
  'ts',
  'value',
  'score',
  'severity',
  'detectors',
  'context_ts',
  'context_values',
  'explanation',
  'revision',
  'created_at',
  'retention_days',
];

/** The only code that reads or writes `anomalies`. Every read is scoped to one tenant. */
export class AnomalyRepository {
  constructor(private readonly clickhouse: ClickHouseAccess) {}

  /**
   * Writes a batch (rows may belong to several tenants). The same batch again with the
   * same token stores nothing; an anomaly written again in another batch (a replay cut
   * differently) is stored twice but read once, see `find`.
   */
  async insertBatch(rows: readonly AnomalyRecord[], dedupToken: DedupToken): Promise<void> {
    await insertBatch(
      this.clickhouse,
      'anomalies',
      ANOMALY_COLUMNS,
      rows,
      anomalyTuple,
      dedupToken,
      'anomalies',
    );
  }

  /**
   * A tenant's anomalies, newest first. FINAL merges rows of the same anomaly at read
   * time, so one that was written twice and not yet merged away comes back once, at its
   * highest revision.
   */
  async find(tenant: TenantId, query: AnomalyQuery): Promise<StoredAnomaly[]> {
    const conditions = ['tenant_id = {tenant:String}'];
    const params: Record<string, unknown> = {
      tenant,
      limit: requireQueryInteger(query.limit, 'limit', 1, MAX_ANOMALY_LIMIT),
    };
    // Only fixed fragments are joined here; every value is a bound parameter.
    if (query.series !== undefined) {
      conditions.push('series = {series:String}');
      params.series = requireQueryText(query.series, 'series', MAX_SERIES_LENGTH);
    }
    if (query.from !== undefined) {
      conditions.push("ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')");
      params.from = requireInstant(query.from, 'from');
    }
    if (query.to !== undefined) {
      conditions.push("ts < fromUnixTimestamp64Milli({to:Int64}, 'UTC')");
      params.to = requireInstant(query.to, 'to');
    }
    if (query.minScore !== undefined) {
      // Bound as Float32 like the column: as Float64, 0.7 is a hair above the stored
      // Float32 0.7, and an anomaly scoring exactly the threshold would be missed.
      conditions.push('score >= {minScore:Float32}');
      params.minScore = requireQueryNumber(query.minScore, 'minScore');
    }

    return this.select(conditions, params);
  }

  /**
   * One of the tenant's anomalies by id; undefined when the tenant has none of that id
   * (another tenant's anomaly is as absent as one that never was).
   */
  async get(tenant: TenantId, id: string): Promise<StoredAnomaly | undefined> {
    // Longer than any stored id (anomalyTuple's bound): no such anomaly, not a bad query.
    if (typeof id !== 'string' || id.length === 0 || id.length > 256) return undefined;
    const [found] = await this.select(['tenant_id = {tenant:String}', 'id = {id:String}'], {
      tenant,
      id,
      limit: 1,
    });
    return found;
  }

  private async select(conditions: string[], params: Record<string, unknown>): Promise<StoredAnomaly[]> {
    let rows: AnomalyRow[];
    try {
      const result = await this.clickhouse.client.query({
        query: `SELECT id, series, toUnixTimestamp64Milli(ts) AS ts_ms, value, score, severity, detectors,
                  arrayMap(t -> toUnixTimestamp64Milli(t), context_ts) AS context_ts_ms, context_values,
                  explanation, revision, toUnixTimestamp64Milli(created_at) AS created_at_ms
                FROM anomalies FINAL
                WHERE ${conditions.join(' AND ')}
                ORDER BY ts DESC, id
                LIMIT {limit:UInt32}`,
        query_params: params,
        format: 'JSONEachRow',
      });
      rows = await result.json<AnomalyRow>();
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.READ_FAILED,
        `reading anomalies failed: ${describeCause(cause)}`,
        { cause },
      );
    }
    return rows.map((row) => ({
      id: row.id,
      series: row.series,
      ts: Number(row.ts_ms),
      value: row.value,
      score: row.score,
      severity: row.severity,
      detectors: row.detectors,
      context: { ts: row.context_ts_ms.map(Number), values: row.context_values },
      explanation: row.explanation,
      revision: row.revision,
      createdAt: Number(row.created_at_ms),
    }));
  }
}

interface AnomalyRow {
  id: string;
  series: string;
  ts_ms: string;
  value: number;
  score: number;
  severity: string;
  detectors: string[];
  context_ts_ms: string[];
  context_values: number[];
  explanation: string | null;
  revision: number;
  created_at_ms: string;
}

function anomalyTuple(row: AnomalyRecord, i: number): unknown[] {
  return [
    requireText(row.tenantId, 'anomalies', i, 'tenantId', 64),
    requireText(row.id, 'anomalies', i, 'id', 256),
    requireText(row.series, 'anomalies', i, 'series', MAX_SERIES_LENGTH),
    toDateTime64Text(requireEpochMillis(row.ts, 'anomalies', i, 'ts')),
    requireFinite(row.value, 'anomalies', i, 'value'),
    requireFinite(row.score, 'anomalies', i, 'score'),
    requireText(row.severity, 'anomalies', i, 'severity', 64),
    detectorNames(row.detectors, i),
    ...contextColumns(row.context, i),
    explanationText(row.explanation, i),
    requireInteger(row.revision, 'anomalies', i, 'revision', 0, 0xffff_ffff),
    toDateTime64Text(requireEpochMillis(row.createdAt, 'anomalies', i, 'createdAt')),
    requireInteger(row.retentionDays, 'anomalies', i, 'retentionDays', 1, 65535),
  ];
}

function detectorNames(detectors: readonly string[], i: number): readonly string[] {
  if (!Array.isArray(detectors))
    throw invalidRecord('anomalies', i, 'detectors', detectors, 'an array of names');
  detectors.forEach((name, j) => requireText(name, 'anomalies', i, `detectors[${j}]`, 128));
  return detectors;
}

function contextColumns(context: AnomalyContext, i: number): [string[], readonly number[]] {
  if (!context || !Array.isArray(context.ts) || !Array.isArray(context.values)) {
    throw invalidRecord('anomalies', i, 'context', context, '{ ts: number[], values: number[] }');
  }
  if (context.ts.length !== context.values.length || context.ts.length > MAX_CONTEXT_POINTS) {
    throw new StorageException(
      StorageExceptionCode.INVALID_RECORD,
      `anomalies[${i}].context has ${context.ts.length} instants and ${context.values.length} values: ` +
        `expected as many of each, at most ${MAX_CONTEXT_POINTS}`,
    );
  }
  // Anomalies are rare, so unlike points their paths are built eagerly.
  context.values.forEach((v, j) => requireFinite(v, 'anomalies', i, `context.values[${j}]`));
  const instants = context.ts.map((t, j) =>
    toDateTime64Text(requireEpochMillis(t, 'anomalies', i, `context.ts[${j}]`)),
  );
  return [instants, context.values];
}

function explanationText(explanation: string | null, i: number): string | null {
  if (explanation !== null && typeof explanation !== 'string') {
    throw invalidRecord('anomalies', i, 'explanation', explanation, 'a string or null');
  }
  return explanation;
}
