import { insertBatch } from './batch.insert';
import { type ClickHouseAccess } from './clickhouse.connection';
import { type DedupToken } from './dedup-token';
import { requireQueryText, requireTimeRange } from './query.guard';
import { invalidRecord, MAX_SERIES_LENGTH, requireFinite, requireInteger, requireText } from './record.guard';
import { describeCause, StorageException, StorageExceptionCode } from './storage.exception';
import { type TenantId } from './tenant-id';
import { HOUR_MS } from './usage';

/**
 * One series' points within one hour, summarised: a row of `series_hourly` (0006). A
 * batch writes a partial summary of each hour it touched; rows of the same hour merge.
 */
export interface SeriesHourRecord {
  readonly tenantId: TenantId;
  readonly series: string;
  /** Start of the hour, epoch milliseconds (a multiple of HOUR_MS). */
  readonly hour: number;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** How long the row is kept, 1..65535 days (the tenant's anomaly retention). */
  readonly retentionDays: number;
}

/** An hour as read back, with its partial rows combined. */
export interface SeriesHour {
  readonly hour: number;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  readonly avg: number;
}

const COLUMNS = ['tenant_id', 'series', 'hour', 'count', 'sum', 'min', 'max', 'retention_days'];

/** Most hours one `range` returns: over thirteen years of one series. */
export const MAX_RANGE_HOURS = 100_000;

/**
 * The only code that reads or writes `series_hourly`: what remains of a zero-retention
 * tenant's points. Writes carry the batch's dedup token like points and anomalies, so a
 * replayed batch does not count its points twice.
 */
export class SeriesHourRepository {
  constructor(private readonly clickhouse: ClickHouseAccess) {}

  async insertBatch(rows: readonly SeriesHourRecord[], dedupToken: DedupToken): Promise<void> {
    await insertBatch(
      this.clickhouse,
      'series_hourly',
      COLUMNS,
      rows,
      hourTuple,
      dedupToken,
      'hourly aggregates',
    );
  }

  /** A series' hours in [from, to), oldest first, each combined across its partial rows. */
  async range(tenant: TenantId, series: string, from: number, to: number): Promise<SeriesHour[]> {
    requireQueryText(series, 'series', MAX_SERIES_LENGTH);
    requireTimeRange(from, to);
    try {
      const result = await this.clickhouse.client.query({
        query: `SELECT toUnixTimestamp(hour) * 1000 AS hour_ms, sum(count) AS n, sum(sum) AS total,
                       min(min) AS lo, max(max) AS hi
                FROM series_hourly
                WHERE tenant_id = {tenant:String} AND series = {series:String}
                  AND hour >= toDateTime(intDiv({from:Int64}, 1000), 'UTC')
                  AND hour < toDateTime(intDiv({to:Int64}, 1000), 'UTC')
                GROUP BY hour ORDER BY hour LIMIT ${MAX_RANGE_HOURS}`,
        query_params: { tenant, series, from, to },
        format: 'JSONEachRow',
      });
      const rows = await result.json<{ hour_ms: string; n: string; total: number; lo: number; hi: number }>();
      return rows.map((row) => {
        const count = Number(row.n);
        return {
          hour: Number(row.hour_ms),
          count,
          sum: row.total,
          min: row.lo,
          max: row.hi,
          avg: row.total / count,
        };
      });
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.READ_FAILED,
        `reading the hours of series '${series}' failed: ${describeCause(cause)}`,
        { cause },
      );
    }
  }
}

function hourTuple(row: SeriesHourRecord, i: number): unknown[] {
  const hour = requireInteger(row.hour, 'hourly aggregates', i, 'hour', 0, 8_000_000_000_000);
  if (hour % HOUR_MS !== 0)
    throw invalidRecord('hourly aggregates', i, 'hour', hour, 'the start of an hour (a multiple of 3600000)');
  return [
    requireText(row.tenantId, 'hourly aggregates', i, 'tenantId', 64),
    requireText(row.series, 'hourly aggregates', i, 'series', MAX_SERIES_LENGTH),
    hour / 1000,
    requireInteger(row.count, 'hourly aggregates', i, 'count', 1, Number.MAX_SAFE_INTEGER),
    requireFinite(row.sum, 'hourly aggregates', i, 'sum'),
    requireFinite(row.min, 'hourly aggregates', i, 'min'),
    requireFinite(row.max, 'hourly aggregates', i, 'max'),
    requireInteger(row.retentionDays, 'hourly aggregates', i, 'retentionDays', 1, 65535),
  ];
}
