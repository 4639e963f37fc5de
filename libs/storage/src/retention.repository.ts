import { type ClickHouseAccess } from './clickhouse.connection';
import { describeCause, StorageException, StorageExceptionCode } from './storage.exception';
import { type TenantId } from './tenant-id';

/** A tenant's retention as its rows carry it: `pointsDays` 0 keeps no point (zero retention). */
export interface RetentionDays {
  readonly pointsDays: number;
  readonly anomaliesDays: number;
}

/**
 * The tables whose TTL reads `retention_days`, and which of a tenant's retentions each
 * carries. Hourly aggregates (0006) are kept as long as anomalies: they are what remains
 * of a zero-retention tenant's points, and what a chart of an old anomaly's day needs.
 */
const TABLES = [
  { table: 'points', days: (r: RetentionDays) => r.pointsDays },
  { table: 'anomalies', days: (r: RetentionDays) => r.anomaliesDays },
  { table: 'series_hourly', days: (r: RetentionDays) => r.anomaliesDays },
] as const;

/**
 * Applies a tenant's changed retention to the rows already stored: the only code that
 * rewrites `retention_days` (PointRepository and AnomalyRepository write it with each
 * new row).
 *
 * Why a mutation (migration 0006 records the measurements): ClickHouse refuses a TTL
 * that reads a dictionary (dictGet is "non-deterministic" to it), and even where allowed
 * a part's TTL is computed when the part is written, so a new retention would reach old
 * parts only through MATERIALIZE TTL of the whole table. `ALTER TABLE ... UPDATE
 * retention_days` rewrites only the parts holding the tenant's rows, and because the
 * TTL depends on that column, ClickHouse re-evaluates the TTL in the same mutation:
 * rows the shorter retention no longer keeps are gone when it finishes, with no
 * OPTIMIZE and no cron job. A longer retention keeps rows not yet expired for longer
 * (rows already dropped are gone for good).
 *
 * `mutations_sync = 2` waits until the mutation is done on every replica, so the PATCH
 * that asked for it answers once the rows comply. It costs about a second per million
 * rows of the parts touched (measured with embedded chdb 26.7 on 2 cores); retention
 * changes are rare admin actions, so the wait is worth the certainty.
 */
export class RetentionRepository {
  constructor(private readonly clickhouse: ClickHouseAccess) {}

  async apply(tenant: TenantId, retention: RetentionDays): Promise<void> {
    for (const { table, days } of TABLES) {
      try {
        await this.clickhouse.client.command({
          // The table name is one of the constants above; the values are bound parameters.
          query: `ALTER TABLE ${table} UPDATE retention_days = {days:UInt16}
                  WHERE tenant_id = {tenant:String} AND retention_days != {days:UInt16}
                  SETTINGS mutations_sync = 2`,
          // The setting in the statement, not clickhouse_settings (a SET kept by chdb's session).
          query_params: { tenant, days: days(retention) },
        });
      } catch (cause) {
        throw new StorageException(
          StorageExceptionCode.WRITE_FAILED,
          `applying the retention of tenant ${tenant} to ${table} failed: ${describeCause(cause)}`,
          { cause },
        );
      }
    }
  }
}
