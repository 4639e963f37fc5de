import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { insertBatch } from './batch.insert';
import { type TypedColumn } from './batch.writer';
import { type ClickHouseAccess } from './clickhouse.connection';
import { toDateTime64Text } from './datetime64';
import { type DedupToken } from './dedup-token';
import { type PointRange, type PointRecord, type WindowSample } from './point';
import { requireInstant, requireQueryInteger, requireQueryText, requireTimeRange } from './query.guard';
import {
  MAX_SERIES_LENGTH,
  requireEpochMillis,
  requireFinite,
  requireInteger,
  requireText,
} from './record.guard';
import { RowBinaryWriter } from './row-binary.writer';
import { describeCause, StorageException, StorageExceptionCode } from './storage.exception';
import { type TenantId } from './tenant-id';

/** Most points `range` returns, raw or as buckets: a chart is a few thousand pixels wide. */
export const MAX_RANGE_POINTS = 100_000;

/** The columns `pointTuple` fills, in its order. */
const POINT_COLUMNS = ['tenant_id', 'series', 'ts', 'value', 'score', 'flags', 'retention_days'];

/** The same columns with their types, in the order `encodePointsRowBinary` writes them. */
const POINT_TYPED_COLUMNS: readonly TypedColumn[] = [
  { name: 'tenant_id', type: 'String' },
  { name: 'series', type: 'String' },
  { name: 'ts', type: "DateTime64(3, 'UTC')" },
  { name: 'value', type: 'Float64' },
  { name: 'score', type: 'Float32' },
  { name: 'flags', type: 'UInt8' },
  { name: 'retention_days', type: 'UInt16' },
];

/** Rows encoded between two turns of the event loop: a few milliseconds of work. */
const ROW_BINARY_CHUNK = 16_384;

/**
 * The only code that reads or writes `points`. Every read is scoped to one tenant; every
 * row written names its own.
 */
export class PointRepository {
  constructor(private readonly clickhouse: ClickHouseAccess) {}

  /**
   * Writes a batch (rows may belong to several tenants: a Kafka batch does). Writing the
   * same batch again with the same token stores nothing: that is how a replay after a
   * crash stays exactly-once. Resolves once ClickHouse has the rows.
   */
  async insertBatch(rows: readonly PointRecord[], dedupToken: DedupToken): Promise<void> {
    const { writer } = this.clickhouse;
    if (!writer.writeRowBinary) {
      await insertBatch(this.clickhouse, 'points', POINT_COLUMNS, rows, pointTuple, dedupToken, 'points');
      return;
    }
    if (rows.length === 0) return;
    const payload = await encodePointsRowBinary(rows);
    try {
      await writer.writeRowBinary('points', POINT_TYPED_COLUMNS, dedupToken, payload);
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.WRITE_FAILED,
        `writing ${rows.length} points (dedup token ${dedupToken}) failed: ${describeCause(cause)}`,
        { cause },
      );
    }
  }

  /**
   * The points of one series in [from, to): all of them when there are at most
   * `maxPoints`, otherwise at most `maxPoints` time buckets with min, max, avg and the
   * highest score, so a month of 10-second points still charts as ~1000 bars.
   */
  async range(
    tenant: TenantId,
    series: string,
    from: number,
    to: number,
    maxPoints: number,
  ): Promise<PointRange> {
    requireQueryText(series, 'series', MAX_SERIES_LENGTH);
    requireTimeRange(from, to);
    requireQueryInteger(maxPoints, 'maxPoints', 1, MAX_RANGE_POINTS);
    const where = `tenant_id = {tenant:String} AND series = {series:String}
      AND ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`;

    // Reading one point past the limit answers "are there more?" without counting the
    // whole range: the sorting key hands the points over in time order, and LIMIT stops.
    const raw = await this.read<{ ts_ms: string; value: number; score: number; flags: number }>(
      `SELECT toUnixTimestamp64Milli(ts) AS ts_ms, value, score, flags
       FROM points WHERE ${where} ORDER BY ts LIMIT {limit:UInt32}`,
      { tenant, series, from, to, limit: maxPoints + 1 },
      `points of ${series}`,
    );
    if (raw.length <= maxPoints) {
      return {
        resolution: 'raw',
        points: raw.map((p) => ({ ts: Number(p.ts_ms), value: p.value, score: p.score, flags: p.flags })),
      };
    }

    const bucketMs = Math.ceil((to - from) / maxPoints);
    const buckets = await this.read<{
      bucket_ms: string;
      n: string;
      min: number;
      max: number;
      avg: number;
      max_score: number;
      flags: number;
    }>(
      `SELECT {from:Int64} + intDiv(toUnixTimestamp64Milli(ts) - {from:Int64}, {bucket:Int64}) * {bucket:Int64} AS bucket_ms,
              count() AS n, min(value) AS min, max(value) AS max, avg(value) AS avg,
              max(score) AS max_score, groupBitOr(flags) AS flags
       FROM points WHERE ${where}
       GROUP BY bucket_ms ORDER BY bucket_ms`,
      { tenant, series, from, to, bucket: bucketMs },
      `buckets of ${series}`,
    );
    return {
      resolution: 'bucketed',
      bucketMs,
      buckets: buckets.map((b) => ({
        ts: Number(b.bucket_ms),
        count: Number(b.n),
        min: b.min,
        max: b.max,
        avg: b.avg,
        maxScore: b.max_score,
        flags: b.flags,
      })),
    };
  }

  /**
   * What a series looked like up to `at`, in one query (what LLM triage reads per anomaly):
   * of the points of [at - spanMs, at), the first of each of `buckets` buckets of equal
   * time, then the point at `at` itself. Empty buckets are left out; in time order. A
   * sample, not bucket means: its median and spread are those of the points (means
   * would shrink the spread by the root of the points a bucket holds, and a raw value
   * would then look that many times further out). Unlike `range` it never reads the raw
   * points to count them: a query less, and no row per point to decode.
   */
  async window(
    tenant: TenantId,
    series: string,
    at: number,
    spanMs: number,
    buckets: number,
  ): Promise<WindowSample[]> {
    requireQueryText(series, 'series', MAX_SERIES_LENGTH);
    requireQueryInteger(spanMs, 'spanMs', 1, Number.MAX_SAFE_INTEGER);
    requireQueryInteger(buckets, 'buckets', 1, MAX_RANGE_POINTS);
    requireInstant(at, 'at');
    const from = requireInstant(at - spanMs, 'at - spanMs');
    const rows = await this.read<{ t: string; v: number }>(
      `SELECT min(toUnixTimestamp64Milli(ts)) AS t, argMin(value, ts) AS v
       FROM points
       WHERE tenant_id = {tenant:String} AND series = {series:String}
         AND ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ts <= fromUnixTimestamp64Milli({at:Int64}, 'UTC')
       GROUP BY if(ts = fromUnixTimestamp64Milli({at:Int64}, 'UTC'), -1,
                   intDiv(toUnixTimestamp64Milli(ts) - {from:Int64}, {bucket:Int64})) AS bucket
       ORDER BY t`,
      { tenant, series, from, at, bucket: Math.ceil(spanMs / buckets) },
      `window of ${series}`,
    );
    return rows.map((r) => ({ ts: Number(r.t), value: r.v }));
  }

  private async read<T>(query: string, params: Record<string, unknown>, what: string): Promise<T[]> {
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
        `reading the ${what} failed: ${describeCause(cause)}`,
        { cause },
      );
    }
  }
}

/**
 * The rows as RowBinary, each field checked as `pointTuple` checks it (a bad row fails
 * the batch, naming row and field), yielding to the event loop between chunks.
 */
async function encodePointsRowBinary(rows: readonly PointRecord[]): Promise<Buffer> {
  const out = new RowBinaryWriter(rows.length * 64);
  for (let start = 0; start < rows.length; start += ROW_BINARY_CHUNK) {
    if (start > 0) await yieldToEventLoop();
    const end = Math.min(rows.length, start + ROW_BINARY_CHUNK);
    for (let i = start; i < end; i++) {
      const row = rows[i];
      out.repeatedString(requireText(row.tenantId, 'points', i, 'tenantId', 64));
      out.repeatedString(requireText(row.series, 'points', i, 'series', MAX_SERIES_LENGTH));
      out.dateTime64Millis(requireEpochMillis(row.ts, 'points', i, 'ts'));
      out.float64(requireFinite(row.value, 'points', i, 'value'));
      out.float32(requireFinite(row.score, 'points', i, 'score'));
      out.uint8(requireInteger(row.flags, 'points', i, 'flags', 0, 255));
      out.uint16(requireInteger(row.retentionDays, 'points', i, 'retentionDays', 1, 65535));
    }
  }
  return out.finish();
}

function pointTuple(row: PointRecord, i: number): unknown[] {
  return [
    requireText(row.tenantId, 'points', i, 'tenantId', 64),
    requireText(row.series, 'points', i, 'series', MAX_SERIES_LENGTH),
    toDateTime64Text(requireEpochMillis(row.ts, 'points', i, 'ts')),
    requireFinite(row.value, 'points', i, 'value'),
    requireFinite(row.score, 'points', i, 'score'),
    requireInteger(row.flags, 'points', i, 'flags', 0, 255),
    requireInteger(row.retentionDays, 'points', i, 'retentionDays', 1, 65535),
  ];
}
