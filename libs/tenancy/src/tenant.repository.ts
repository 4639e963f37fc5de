import {
  type ClickHouseAccess,
  describeCause,
  parseTenantId,
  StorageException,
  StorageExceptionCode,
  type TenantId,
} from '@seismo/storage';
import { type ApiKeyHash } from './api-key';
import { type Tenant } from './tenant';

/** A tenant as stored: its row's version decides which of two writes of it is current. */
export interface StoredTenant {
  readonly tenant: Tenant;
  readonly version: number;
}

/** An API key as stored: its hash, never the key. */
export interface StoredApiKey {
  readonly keyHash: ApiKeyHash;
  readonly tenantId: TenantId;
  readonly version: number;
}

/** Every tenant, and every key not revoked. */
export interface TenancySnapshot {
  readonly tenants: readonly StoredTenant[];
  readonly keys: readonly StoredApiKey[];
}

/**
 * The only code that reads or writes `tenants` and `api_keys` (migration 0003). A change
 * is a new row with a higher version; reads use FINAL, so a row replaced but not yet
 * merged away is never seen. Inserts resolve once ClickHouse has stored the row.
 */
export class TenantRepository {
  constructor(private readonly clickhouse: ClickHouseAccess) {}

  async insertTenant(tenant: Tenant): Promise<StoredTenant> {
    const version = nextVersion();
    // INSERT ... SELECT so that every value is a bound, typed parameter: nothing an
    // admin typed is ever spliced into SQL, and the instant needs no text format.
    await this.write(`tenant ${tenant.id}`, {
      query: `INSERT INTO tenants (id, name, points_days, anomalies_days, zero_retention, created_at, version)
              SELECT {id:String}, {name:String}, {pointsDays:UInt16}, {anomaliesDays:UInt16},
                     {zeroRetention:UInt8}, fromUnixTimestamp64Milli({createdAt:Int64}, 'UTC'), {version:UInt64}`,
      query_params: {
        id: tenant.id,
        name: tenant.name,
        pointsDays: tenant.pointsDays,
        anomaliesDays: tenant.anomaliesDays,
        zeroRetention: tenant.zeroRetention ? 1 : 0,
        createdAt: Math.floor(version / 1000),
        version,
      },
    });
    return { tenant, version };
  }

  async insertApiKey(tenantId: TenantId, keyHash: ApiKeyHash): Promise<StoredApiKey> {
    const version = nextVersion();
    await this.write(`an API key of tenant ${tenantId}`, {
      query: `INSERT INTO api_keys (key_hash, tenant_id, created_at, revoked, version)
              SELECT {keyHash:FixedString(64)}, {tenantId:String},
                     fromUnixTimestamp64Milli({createdAt:Int64}, 'UTC'), 0, {version:UInt64}`,
      query_params: { keyHash, tenantId, createdAt: Math.floor(version / 1000), version },
    });
    return { keyHash, tenantId, version };
  }

  /**
   * Everything a directory caches. Keys are read before tenants: a key is written after
   * its tenant, so every key this returns has its tenant in the same snapshot, even when
   * both were written between the two reads.
   */
  async loadActive(): Promise<TenancySnapshot> {
    try {
      // WHERE after FINAL filters the merged rows: a key revoked by a newer row is gone,
      // rather than its older, unrevoked row coming back.
      const keyRows = await this.rows<{ key_hash: string; tenant_id: string; version: string }>(
        'SELECT key_hash, tenant_id, version FROM api_keys FINAL WHERE revoked = 0',
      );
      const tenantRows = await this.rows<{
        id: string;
        name: string;
        points_days: number;
        anomalies_days: number;
        zero_retention: number;
        version: string;
      }>('SELECT id, name, points_days, anomalies_days, zero_retention, version FROM tenants FINAL');
      return {
        keys: keyRows.map((row) => ({
          keyHash: row.key_hash as ApiKeyHash,
          tenantId: parseTenantId(row.tenant_id),
          version: Number(row.version),
        })),
        tenants: tenantRows.map((row) => ({
          tenant: {
            id: parseTenantId(row.id),
            name: row.name,
            pointsDays: Number(row.points_days),
            anomaliesDays: Number(row.anomalies_days),
            zeroRetention: Number(row.zero_retention) !== 0,
          },
          version: Number(row.version),
        })),
      };
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.READ_FAILED,
        `loading tenants and API keys failed: ${describeCause(cause)}`,
        { cause },
      );
    }
  }

  private async rows<T>(query: string): Promise<T[]> {
    const result = await this.clickhouse.client.query({ query, format: 'JSONEachRow' });
    return result.json<T>();
  }

  private async write(what: string, statement: { query: string; query_params: Record<string, unknown> }) {
    try {
      await this.clickhouse.client.command(statement);
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.WRITE_FAILED,
        `storing ${what} failed: ${describeCause(cause)}`,
        { cause },
      );
    }
  }
}

let lastVersion = 0;

/**
 * A row version: the clock in epoch microseconds, so the latest write wins across
 * processes, and strictly increasing within this one, so two writes in the same
 * millisecond still keep their order. Exact as a double until the year 2255.
 */
function nextVersion(): number {
  lastVersion = Math.max(Date.now() * 1000, lastVersion + 1);
  return lastVersion;
}
