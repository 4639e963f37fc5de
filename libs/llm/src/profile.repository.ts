import {
  type ClickHouseAccess,
  describeCause,
  StorageException,
  StorageExceptionCode,
} from '@seismo/storage';
import { type SeriesProfile } from './profile';

/** The only code that reads or writes `series_profiles` (migration 0016). */
export class ProfileRepository {
  constructor(private readonly clickhouse: ClickHouseAccess) {}

  async write(
    tenantId: string,
    pattern: string,
    profile: SeriesProfile,
    model: string,
    now: number,
  ): Promise<void> {
    try {
      await this.clickhouse.client.command({
        query: `INSERT INTO series_profiles (tenant_id, pattern, kind, direction, seasonality, unit, model, created_at)
                SELECT {tenant:String}, {pattern:String}, {kind:String}, {direction:String}, {seasonality:String},
                       {unit:String}, {model:String}, fromUnixTimestamp64Milli({now:Int64}, 'UTC')`,
        query_params: { tenant: tenantId, pattern, ...profile, model, now },
      });
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.WRITE_FAILED,
        `storing the profile of ${pattern} failed: ${describeCause(cause)}`,
        { cause },
      );
    }
  }

  /** The stored profile of a pattern, if any. */
  async read(tenantId: string, pattern: string): Promise<SeriesProfile | undefined> {
    try {
      const result = await this.clickhouse.client.query({
        query: `SELECT kind, direction, seasonality, unit FROM series_profiles FINAL
                WHERE tenant_id = {tenant:String} AND pattern = {pattern:String}`,
        query_params: { tenant: tenantId, pattern },
        format: 'JSONEachRow',
      });
      const rows = await result.json<SeriesProfile>();
      return rows[0];
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.READ_FAILED,
        `reading the profile of ${pattern} failed: ${describeCause(cause)}`,
        { cause },
      );
    }
  }
}
