import { insertBatch } from './batch.insert';
import { type ClickHouseAccess } from './clickhouse.connection';
import { type DedupToken } from './dedup-token';
import { requireTimeRange } from './query.guard';
import { invalidRecord, requireInteger, requireText } from './record.guard';
import { describeCause, StorageException, StorageExceptionCode } from './storage.exception';
import { type TenantId } from './tenant-id';
import {
  DAY_MS,
  HOUR_MS,
  type HourlyUsage,
  type UsageBucket,
  type UsageCounts,
  type UsageQuery,
  type UsageRecord,
} from './usage';

/** Most buckets one usage query returns: a year of days, or 93 days of hours. */
export const MAX_USAGE_BUCKETS = 93 * 24;

const USAGE_COLUMNS = [
  'tenant_id',
  'hour',
  'points_ingested',
  'points_scored',
  'points_rejected',
  'anomalies',
  'alerts_delivered',
  'llm_tokens_in',
  'llm_tokens_out',
  'series_hashes',
  'written_through',
];

/**
 * The tenant of the row that says how far each partition's usage is stored (see
 * `insertBatch`): no tenant's id, as tenant ids are never empty and every read names its
 * tenants. Its hour is 0, so the row is found by its primary key.
 */
const WRITTEN_THROUGH_TENANT = '';

/** Largest count one row may add: 2^53 - 1, what a JavaScript number holds exactly. */
const MAX_COUNT = Number.MAX_SAFE_INTEGER;

/** Every meter, aggregated over the rows of a group; `active_series` as a set size. */
const METER_SELECT = `sum(points_ingested) AS points_ingested, sum(points_scored) AS points_scored,
  sum(points_rejected) AS points_rejected, length(groupUniqArrayArray(series_hashes)) AS active_series,
  sum(anomalies) AS anomalies, sum(alerts_delivered) AS alerts_delivered,
  sum(llm_tokens_in) AS llm_tokens_in, sum(llm_tokens_out) AS llm_tokens_out`;

/**
 * The only code that reads or writes `usage_hourly`. Writers add rows under a dedup token
 * before the work they count is acknowledged (the engine: before the offsets are
 * committed, with its partitions' marks; see migration 0019); readers always aggregate,
 * since parts not yet merged hold several partial rows per tenant and hour.
 */
export class UsageRepository {
  constructor(private readonly clickhouse: ClickHouseAccess) {}

  /**
   * Adds counts (rows may belong to several tenants and hours); the same token again stores
   * nothing. `writtenThrough`, the engine's: per partition of a log, the last offset whose
   * usage these rows complete, stored in the same INSERT (one block: both or neither), so
   * that `writtenThrough()` tells an engine taking the partition which batches are counted.
   */
  async insertBatch(
    rows: readonly UsageRecord[],
    dedupToken: DedupToken,
    writtenThrough: readonly PartitionMark[] = [],
  ): Promise<void> {
    const tuples = rows.map(usageTuple);
    if (writtenThrough.length > 0) tuples.push(marksTuple(writtenThrough));
    await insertBatch(
      this.clickhouse,
      'usage_hourly',
      USAGE_COLUMNS,
      tuples,
      (tuple) => tuple,
      dedupToken,
      'usage rows',
    );
  }

  /**
   * The last offset of `partition` of `source` whose batch's usage is stored, as
   * `insertBatch` recorded it; -1 when none is. Offsets are recorded in order, so every
   * batch of the partition up to it is counted and none after it.
   */
  async writtenThrough(source: string, partition: number): Promise<number> {
    const [row] = await this.read<{ through: string | number | null }>(
      `SELECT (maxMap(written_through) AS marks).2[indexOf(marks.1, {key:String})] AS through,
              indexOf(marks.1, {key:String}) AS found
       FROM usage_hourly
       WHERE tenant_id = {tenant:String} AND hour = toDateTime(0, 'UTC')
       HAVING found > 0`,
      { key: markKey({ source, partition, offset: 0 }), tenant: WRITTEN_THROUGH_TENANT },
      `reading how far partition ${partition} of ${source} is counted`,
    );
    return row === undefined ? -1 : Number(row.through);
  }

  /**
   * A tenant's usage in [from, to), one bucket per hour or UTC day that has any, oldest
   * first. A bucket's `active_series` counts the distinct series seen in it, so a day's is
   * not the sum of its hours'.
   */
  async buckets(tenant: TenantId, query: UsageQuery): Promise<UsageBucket[]> {
    requireTimeRange(query.from, query.to);
    const size = query.granularity === 'day' ? DAY_MS : HOUR_MS;
    const from = Math.floor(query.from / size) * size;
    if (Math.ceil((query.to - from) / size) > MAX_USAGE_BUCKETS) {
      throw new StorageException(
        StorageExceptionCode.INVALID_QUERY,
        `from..to spans more than ${MAX_USAGE_BUCKETS} ${query.granularity}s`,
      );
    }
    const bucket = query.granularity === 'day' ? 'toStartOfDay(hour)' : 'hour';
    return (
      await this.read(
        `SELECT toUnixTimestamp(${bucket}) * 1000 AS start, ${METER_SELECT}
         FROM usage_hourly
         WHERE tenant_id = {tenant:String}
           AND hour >= toDateTime(intDiv({from:Int64}, 1000), 'UTC')
           AND hour < toDateTime(intDiv({to:Int64} + 999, 1000), 'UTC')
         GROUP BY start ORDER BY start`,
        { tenant, from, to: query.to },
        `reading the usage of tenant ${tenant}`,
      )
    ).map((row) => ({ start: Number(row.start), counts: countsOf(row) }));
  }

  /**
   * A tenant's usage over the hours that start in [from, to): every meter summed, and
   * `active_series` the distinct series over the whole range.
   */
  async total(tenant: TenantId, from: number, to: number): Promise<UsageCounts> {
    requireTimeRange(from, to);
    const [row] = await this.read(
      `SELECT 0 AS start, ${METER_SELECT}
       FROM usage_hourly
       WHERE tenant_id = {tenant:String}
         AND hour >= toDateTime(intDiv({from:Int64}, 1000), 'UTC')
         AND hour < toDateTime(intDiv({to:Int64} + 999, 1000), 'UTC')`,
      { tenant, from: Math.floor(from / HOUR_MS) * HOUR_MS, to },
      `reading the usage total of tenant ${tenant}`,
    );
    return countsOf(row);
  }

  /**
   * The hourly usage of some tenants for the hours in [since, before) (epoch ms; since
   * defaults to the beginning): what billing compares with what it has sent. Scoped to the
   * tenants named, like every read. Each hour's active series are a set union read from
   * disk, so the billing worker bounds `since` to the hours Stripe still takes.
   */
  async hourly(tenants: readonly TenantId[], before: number, since = 0): Promise<HourlyUsage[]> {
    if (tenants.length === 0) return [];
    return (
      await this.read(
        `SELECT tenant_id, toUnixTimestamp(hour) * 1000 AS start, ${METER_SELECT}
         FROM usage_hourly
         WHERE tenant_id IN {tenants:Array(String)} AND hour < toDateTime(intDiv({before:Int64}, 1000), 'UTC')
           AND hour >= toDateTime(intDiv({since:Int64}, 1000), 'UTC')
         GROUP BY tenant_id, start ORDER BY tenant_id, start`,
        { tenants, before, since: Math.max(0, since) },
        `reading the hourly usage of ${tenants.length} tenants`,
      )
    ).map((row) => ({ tenantId: row.tenant_id as TenantId, hour: Number(row.start), counts: countsOf(row) }));
  }

  private async read<Row = MeterRow>(
    query: string,
    params: Record<string, unknown>,
    what: string,
  ): Promise<Row[]> {
    try {
      const result = await this.clickhouse.client.query({
        query,
        query_params: params,
        format: 'JSONEachRow',
      });
      return await result.json<Row>();
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.READ_FAILED,
        `${what} failed: ${describeCause(cause)}`,
        {
          cause,
        },
      );
    }
  }
}

interface MeterRow {
  tenant_id: string;
  start: string;
  points_ingested: string;
  points_scored: string;
  points_rejected: string;
  active_series: string;
  anomalies: string;
  alerts_delivered: string;
  llm_tokens_in: string;
  llm_tokens_out: string;
}

function countsOf(row: MeterRow): UsageCounts {
  return {
    points_ingested: Number(row.points_ingested),
    points_scored: Number(row.points_scored),
    points_rejected: Number(row.points_rejected),
    active_series: Number(row.active_series),
    anomalies: Number(row.anomalies),
    alerts_delivered: Number(row.alerts_delivered),
    llm_tokens_in: Number(row.llm_tokens_in),
    llm_tokens_out: Number(row.llm_tokens_out),
  };
}

function usageTuple(row: UsageRecord, i: number): unknown[] {
  const count = (value: number, field: string) => requireInteger(value, 'usage', i, field, 0, MAX_COUNT);
  if (!Number.isInteger(row.hour) || row.hour % HOUR_MS !== 0 || row.hour < 0) {
    throw invalidRecord('usage', i, 'hour', row.hour, 'epoch milliseconds at the start of an hour');
  }
  if (!Array.isArray(row.seriesHashes)) {
    throw invalidRecord('usage', i, 'seriesHashes', row.seriesHashes, 'an array of 64-bit hashes');
  }
  return [
    requireText(row.tenantId, 'usage', i, 'tenantId', 64),
    row.hour / 1000,
    count(row.pointsIngested, 'pointsIngested'),
    count(row.pointsScored, 'pointsScored'),
    count(row.pointsRejected, 'pointsRejected'),
    count(row.anomalies, 'anomalies'),
    count(row.alertsDelivered, 'alertsDelivered'),
    count(row.llmTokensIn, 'llmTokensIn'),
    count(row.llmTokensOut, 'llmTokensOut'),
    // As decimal text: JSON numbers lose precision past 2^53, ClickHouse parses the text exactly.
    row.seriesHashes.map((hash) => hash.toString()),
    [[], []],
  ];
}

/** How far one partition's usage is stored: its last counted offset. */
export interface PartitionMark {
  /** The log: a topic, or the embedded queue's name of this run. */
  readonly source: string;
  readonly partition: number;
  readonly offset: number;
}

function markKey(mark: PartitionMark): string {
  return `${mark.source}/${mark.partition}`;
}

function marksTuple(marks: readonly PartitionMark[]): unknown[] {
  marks.forEach((mark, i) => {
    requireText(mark.source, 'usage mark', i, 'source', 256);
    requireInteger(mark.partition, 'usage mark', i, 'partition', 0, 0xffff);
    requireInteger(mark.offset, 'usage mark', i, 'offset', 0, MAX_COUNT);
  });
  const zero = [0, 0, 0, 0, 0, 0, 0];
  return [WRITTEN_THROUGH_TENANT, 0, ...zero, [], [marks.map(markKey), marks.map((mark) => mark.offset)]];
}
