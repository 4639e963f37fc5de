import { type ClickHouseAccess } from './clickhouse.connection';
import { type SeriesSummary } from './series';
import { describeCause, StorageException, StorageExceptionCode } from './storage.exception';
import { type TenantId } from './tenant-id';

/** A tenant's series, as seen in `points`. Reads only; points are written by PointRepository. */
export class SeriesRepository {
  constructor(private readonly clickhouse: ClickHouseAccess) {}

  /**
   * Every series with stored points, by name. It aggregates the tenant's points, which
   * the sorting key keeps contiguous; past a few hundred million points per tenant a
   * summary table fed by a materialized view should take over.
   */
  async list(tenant: TenantId): Promise<SeriesSummary[]> {
    try {
      const result = await this.clickhouse.client.query({
        query: `SELECT series, toUnixTimestamp64Milli(min(ts)) AS first_ms, toUnixTimestamp64Milli(max(ts)) AS last_ms,
                  count() AS n
                FROM points
                WHERE tenant_id = {tenant:String}
                GROUP BY series
                ORDER BY series`,
        query_params: { tenant },
        format: 'JSONEachRow',
      });
      const rows = await result.json<{ series: string; first_ms: string; last_ms: string; n: string }>();
      return rows.map((row) => ({
        series: row.series,
        firstSeen: Number(row.first_ms),
        lastSeen: Number(row.last_ms),
        points: Number(row.n),
      }));
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.READ_FAILED,
        `listing the series of tenant ${tenant} failed: ${describeCause(cause)}`,
        { cause },
      );
    }
  }
}
