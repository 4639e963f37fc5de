import {
  type ClickHouseAccess,
  describeCause,
  nextRowVersion,
  parseTenantId,
  StorageException,
  StorageExceptionCode,
  type TenantId,
} from '@seismo/storage';
import { type Role, type Scope, isScope } from './access';
import { type ApiKeyHash, legacyApiKeyId } from './api-key';
import { DEFAULT_PLAN, isPlanName, parseStoredOverrides } from './limits';
import { type Member } from './member';
import { type Tenant } from './tenant';
import { parseStoredLlmSettings } from './tenant.validator';

/** A tenant as stored: its row's version decides which of two writes of it is current. */
export interface StoredTenant {
  readonly tenant: Tenant;
  readonly version: number;
}

/** What a key is, without its secret: what listings show. */
export interface ApiKeyInfo {
  /** The public id (`key_...`), by which the key is listed and revoked. */
  readonly id: string;
  readonly tenantId: TenantId;
  readonly name: string;
  readonly scopes: readonly Scope[];
  /** The member the key belongs to; absent for a service key. */
  readonly memberId?: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
}

/** An API key as stored: its hash, never the key. */
export interface StoredApiKey extends ApiKeyInfo {
  readonly keyHash: ApiKeyHash;
  readonly version: number;
}

export interface StoredMember {
  readonly member: Member;
  readonly version: number;
}

/** When a key was last used, as some process recorded it. */
export interface ApiKeyUsage {
  readonly tenantId: TenantId;
  readonly keyId: string;
  /** Epoch milliseconds. */
  readonly lastUsedAt: number;
}

/** Every tenant, every member not removed, every key not revoked, and when keys were last used. */
export interface TenancySnapshot {
  readonly tenants: readonly StoredTenant[];
  readonly members: readonly StoredMember[];
  readonly keys: readonly StoredApiKey[];
  readonly usage: readonly ApiKeyUsage[];
}

interface KeyRow {
  key_hash: string;
  tenant_id: string;
  id: string;
  name: string;
  scopes: string[];
  member_id: string;
  created_ms: string;
  version: string;
}

const KEY_COLUMNS = `key_hash, tenant_id, id, name, scopes, member_id,
                     toUnixTimestamp64Milli(created_at) AS created_ms, version`;

/**
 * The only code that reads or writes `tenants`, `api_keys`, `members` and `api_key_usage`
 * (migrations 0003 and 0005). A change
 * is a new row with a higher version; reads use FINAL, so a row replaced but not yet
 * merged away is never seen. Inserts resolve once ClickHouse has stored the row.
 */
export class TenantRepository {
  constructor(private readonly clickhouse: ClickHouseAccess) {}

  async insertTenant(tenant: Tenant): Promise<StoredTenant> {
    const version = nextRowVersion();
    // INSERT ... SELECT so that every value is a bound, typed parameter: nothing an
    // admin typed is ever spliced into SQL, and the instant needs no text format.
    await this.write(`tenant ${tenant.id}`, {
      query: `INSERT INTO tenants (id, name, points_days, anomalies_days, zero_retention, plan, limits, llm,
                                   closed_at, purge_after, created_at, version)
              SELECT {id:String}, {name:String}, {pointsDays:UInt16}, {anomaliesDays:UInt16},
                     {zeroRetention:UInt8}, {plan:String}, {limits:String}, {llm:String}, ${CLOSURE_VALUES},
                     fromUnixTimestamp64Milli({createdAt:Int64}, 'UTC'), {version:UInt64}`,
      query_params: { ...tenantParams(tenant), createdAt: Math.floor(version / 1000), version },
    });
    return { tenant, version };
  }

  /**
   * A tenant changed: a new row with every field, keeping the row's created_at. Writes
   * nothing for a tenant that has no row.
   */
  async updateTenant(tenant: Tenant): Promise<StoredTenant> {
    const version = nextRowVersion();
    await this.write(`tenant ${tenant.id}`, {
      query: `INSERT INTO tenants (id, name, points_days, anomalies_days, zero_retention, plan, limits, llm,
                                   closed_at, purge_after, created_at, version)
              SELECT id, {name:String}, {pointsDays:UInt16}, {anomaliesDays:UInt16}, {zeroRetention:UInt8},
                     {plan:String}, {limits:String}, {llm:String}, ${CLOSURE_VALUES}, created_at, {version:UInt64}
              FROM tenants FINAL WHERE id = {id:String}`,
      query_params: { ...tenantParams(tenant), version },
    });
    return { tenant, version };
  }

  async insertApiKey(keyHash: ApiKeyHash, key: Omit<ApiKeyInfo, 'createdAt'>): Promise<StoredApiKey> {
    const version = nextRowVersion();
    const createdAt = Math.floor(version / 1000);
    await this.writeKey(keyHash, { ...key, createdAt }, false, version);
    return { ...key, keyHash, createdAt, version };
  }

  /** The key's row again, revoked: from then on loadActive leaves it out. */
  async revokeApiKey(stored: StoredApiKey): Promise<void> {
    await this.writeKey(stored.keyHash, stored, true, nextRowVersion());
  }

  /**
   * Revokes every key of a member in one statement, from the stored rows rather than a
   * cache, so a key another process made for them moments ago goes too.
   */
  async revokeMemberKeys(tenantId: TenantId, memberId: string): Promise<void> {
    await this.write(`the API keys of member ${memberId}`, {
      query: `INSERT INTO api_keys (key_hash, tenant_id, created_at, revoked, version, id, name, scopes, member_id)
              SELECT key_hash, tenant_id, created_at, 1, {version:UInt64}, id, name, scopes, member_id
              FROM api_keys FINAL
              WHERE tenant_id = {tenantId:String} AND member_id = {memberId:String} AND revoked = 0`,
      query_params: { tenantId, memberId, version: nextRowVersion() },
    });
  }

  /** A member's row: a new one, a role change, or (`removed`) their removal. */
  async writeMember(member: Member, removed = false): Promise<StoredMember> {
    const version = nextRowVersion();
    await this.write(`member ${member.id} of tenant ${member.tenantId}`, {
      query: `INSERT INTO members (tenant_id, id, email, role, password_hash, created_at, removed, version)
              SELECT {tenantId:String}, {id:String}, {email:String}, {role:String}, NULL,
                     fromUnixTimestamp64Milli({createdAt:Int64}, 'UTC'), {removed:UInt8}, {version:UInt64}`,
      query_params: {
        tenantId: member.tenantId,
        id: member.id,
        email: member.email,
        role: member.role,
        createdAt: member.createdAt,
        removed: removed ? 1 : 0,
        version,
      },
    });
    return { member, version };
  }

  /** Last uses of keys, all in one statement (the directory calls this about once a minute). */
  async recordUsage(usage: readonly ApiKeyUsage[]): Promise<void> {
    if (usage.length === 0) return;
    await this.write(`the last use of ${usage.length} API keys`, {
      query: `INSERT INTO api_key_usage (tenant_id, key_id, last_used_at)
              SELECT u.1, u.2, fromUnixTimestamp64Milli(u.3, 'UTC')
              FROM (SELECT arrayJoin(arrayZip({tenants:Array(String)}, {keys:Array(String)}, {at:Array(Int64)})) AS u)`,
      query_params: {
        tenants: usage.map((u) => u.tenantId),
        keys: usage.map((u) => u.keyId),
        at: usage.map((u) => u.lastUsedAt),
      },
    });
  }

  /**
   * Everything a directory caches. Read keys first, then members, then tenants: a key is
   * written after its member and tenant, so every key this returns has them in the same
   * snapshot, even when all were written between two of the reads.
   */
  async loadActive(): Promise<TenancySnapshot> {
    try {
      // WHERE after FINAL filters the merged rows: a key revoked by a newer row is gone,
      // rather than its older, unrevoked row coming back. Likewise for removed members.
      const keyRows = await this.rows<KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys FINAL WHERE revoked = 0`);
      const memberRows = await this.rows<{
        tenant_id: string;
        id: string;
        email: string;
        role: Role;
        created_ms: string;
        version: string;
      }>(
        `SELECT tenant_id, id, email, role, toUnixTimestamp64Milli(created_at) AS created_ms, version
         FROM members FINAL WHERE removed = 0`,
      );
      const tenantRows = await this.rows<{
        id: string;
        name: string;
        points_days: number;
        anomalies_days: number;
        zero_retention: number;
        plan: string;
        limits: string;
        llm: string;
        closed_ms: string | null;
        purge_ms: string | null;
        version: string;
      }>(
        `SELECT id, name, points_days, anomalies_days, zero_retention, plan, limits, llm,
                toUnixTimestamp64Milli(closed_at) AS closed_ms, toUnixTimestamp64Milli(purge_after) AS purge_ms,
                version
         FROM tenants FINAL`,
      );
      const usageRows = await this.rows<{ tenant_id: string; key_id: string; at_ms: string }>(
        `SELECT tenant_id, key_id, toUnixTimestamp64Milli(max(last_used_at)) AS at_ms
         FROM api_key_usage GROUP BY tenant_id, key_id`,
      );
      return {
        keys: keyRows.map(keyOf),
        members: memberRows.map((row) => ({
          member: {
            id: row.id,
            tenantId: parseTenantId(row.tenant_id),
            email: row.email,
            role: row.role,
            createdAt: Number(row.created_ms),
          },
          version: Number(row.version),
        })),
        tenants: tenantRows.map((row) => ({
          tenant: {
            id: parseTenantId(row.id),
            name: row.name,
            pointsDays: Number(row.points_days),
            anomaliesDays: Number(row.anomalies_days),
            zeroRetention: Number(row.zero_retention) !== 0,
            // An unknown plan (written by a newer version) reads as the default rather than locking the tenant out.
            plan: isPlanName(row.plan) ? row.plan : DEFAULT_PLAN,
            limitOverrides: parseStoredOverrides(row.limits),
            llm: parseStoredLlmSettings(row.llm),
            ...(row.closed_ms !== null && row.purge_ms !== null
              ? { closure: { closedAt: Number(row.closed_ms), purgeAfter: Number(row.purge_ms) } }
              : {}),
          },
          version: Number(row.version),
        })),
        usage: usageRows.map((row) => ({
          tenantId: parseTenantId(row.tenant_id),
          keyId: row.key_id,
          lastUsedAt: Number(row.at_ms),
        })),
      };
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.READ_FAILED,
        `loading tenants, members and API keys failed: ${describeCause(cause)}`,
        { cause },
      );
    }
  }

  private async writeKey(
    keyHash: ApiKeyHash,
    key: ApiKeyInfo,
    revoked: boolean,
    version: number,
  ): Promise<void> {
    await this.write(`API key ${key.id} of tenant ${key.tenantId}`, {
      query: `INSERT INTO api_keys (key_hash, tenant_id, created_at, revoked, version, id, name, scopes, member_id)
              SELECT {keyHash:FixedString(64)}, {tenantId:String},
                     fromUnixTimestamp64Milli({createdAt:Int64}, 'UTC'), {revoked:UInt8}, {version:UInt64},
                     {id:String}, {name:String}, {scopes:Array(String)}, {memberId:String}`,
      query_params: {
        keyHash,
        tenantId: key.tenantId,
        createdAt: key.createdAt,
        revoked: revoked ? 1 : 0,
        version,
        id: key.id,
        name: key.name,
        scopes: key.scopes,
        memberId: key.memberId ?? '',
      },
    });
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

/** The closure columns of a tenant row, from `tenantParams`: NULL while the tenant is open. */
const CLOSURE_VALUES = `fromUnixTimestamp64Milli({closedAt:Nullable(Int64)}, 'UTC'),
                        fromUnixTimestamp64Milli({purgeAfter:Nullable(Int64)}, 'UTC')`;

/** A tenant's fields as the bound parameters of its row. */
function tenantParams(tenant: Tenant): Record<string, unknown> {
  return {
    id: tenant.id,
    name: tenant.name,
    pointsDays: tenant.pointsDays,
    anomaliesDays: tenant.anomaliesDays,
    zeroRetention: tenant.zeroRetention ? 1 : 0,
    plan: tenant.plan,
    limits: JSON.stringify(tenant.limitOverrides),
    llm: JSON.stringify(tenant.llm),
    closedAt: tenant.closure?.closedAt ?? null,
    purgeAfter: tenant.closure?.purgeAfter ?? null,
  };
}

function keyOf(row: KeyRow): StoredApiKey {
  const keyHash = row.key_hash as ApiKeyHash;
  return {
    keyHash,
    tenantId: parseTenantId(row.tenant_id),
    id: row.id || legacyApiKeyId(keyHash),
    name: row.name,
    // A scope this build does not know (written by a newer one) is dropped, never guessed at.
    scopes: row.scopes.filter(isScope),
    ...(row.member_id ? { memberId: row.member_id } : {}),
    createdAt: Number(row.created_ms),
    version: Number(row.version),
  };
}
