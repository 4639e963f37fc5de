import { type ClickHouseAccess } from './clickhouse.connection';
import { describeCause, StorageException, StorageExceptionCode } from './storage.exception';
import { type TenantId } from './tenant-id';

/** How a keyset column's last value, read back as text, is compared in the next page's WHERE. */
type KeyType = 'String' | 'UInt32' | 'DateTime' | 'DateTime64';

interface KeyColumn {
  readonly column: string;
  readonly type: KeyType;
}

/** How a table's rows of one tenant are exported. */
interface ExportPlan {
  /** The `type` of each of its records in the export. */
  readonly type: string;
  /** What is exported: never a secret (no key hash, no password hash). */
  readonly columns: string;
  /** Unique per row (under FINAL), in the table's sort order: pages follow it. */
  readonly key: readonly KeyColumn[];
  /** Read the merged rows of a Replacing/AggregatingMergeTree, not the versions awaiting a merge. */
  readonly final: boolean;
}

/** A table that holds tenants' rows. */
interface TenantTable {
  readonly table: string;
  /** The column naming the tenant. */
  readonly tenantColumn: 'tenant_id' | 'id';
  /** How it is exported; absent when what it holds is not the tenant's data but Seismo's working state. */
  readonly export?: ExportPlan;
  /** Rows erasure leaves: the record that the erasure happened. */
  readonly keep?: string;
}

const key = (column: string, type: KeyType): KeyColumn => ({ column, type });

/**
 * Every table that holds a tenant's rows (the migrations' tables), the one list both export
 * and erasure walk, so they cannot disagree about what "everything" is. `uncatalogued`
 * finds a table with a tenant column missing here (a test runs it against the migrations),
 * so a new table cannot be forgotten by either.
 *
 * The tenant's own row comes last: erasure deletes it last, so an erasure that failed
 * half-way still finds its tenant and can be run again.
 */
export const TENANT_TABLES: readonly TenantTable[] = [
  {
    table: 'points',
    tenantColumn: 'tenant_id',
    export: {
      type: 'point',
      columns: 'series, ts, value, score, flags',
      key: [key('series', 'String'), key('ts', 'DateTime64')],
      final: false,
    },
  },
  {
    table: 'anomalies',
    tenantColumn: 'tenant_id',
    export: {
      type: 'anomaly',
      columns: `id, series, ts, value, score, severity, detectors, context_ts, context_values, explanation,
                created_at`,
      key: [key('series', 'String'), key('ts', 'DateTime64'), key('id', 'String')],
      final: true,
    },
  },
  {
    table: 'series_hourly',
    tenantColumn: 'tenant_id',
    export: {
      type: 'series_hour',
      columns: 'series, hour, count, sum, min, max',
      key: [key('series', 'String'), key('hour', 'DateTime')],
      final: true,
    },
  },
  {
    table: 'usage_hourly',
    tenantColumn: 'tenant_id',
    export: {
      type: 'usage_hour',
      columns: `hour, points_ingested, points_scored, points_rejected, length(series_hashes) AS active_series,
                anomalies, alerts_delivered, llm_tokens_in, llm_tokens_out`,
      key: [key('hour', 'DateTime')],
      final: true,
    },
  },
  // Detector state, encoded for the engine to restore: derived from the points (exported
  // above), meaningless outside Seismo, and erased with them.
  { table: 'checkpoints', tenantColumn: 'tenant_id' },
  {
    table: 'audit_log',
    tenantColumn: 'tenant_id',
    export: {
      type: 'audit',
      columns: 'id, at, actor, actor_member_id, actor_key_id, action, target, source_ip, details',
      key: [key('at', 'DateTime64'), key('id', 'String')],
      final: false,
    },
    keep: "action = 'tenant.erased'",
  },
  {
    table: 'members',
    tenantColumn: 'tenant_id',
    export: {
      type: 'member',
      columns: 'id, email, role, created_at, removed',
      key: [key('id', 'String')],
      final: true,
    },
  },
  {
    table: 'api_keys',
    tenantColumn: 'tenant_id',
    export: {
      type: 'api_key',
      columns: 'id, name, scopes, member_id, created_at, revoked',
      key: [key('key_hash', 'String')],
      final: true,
    },
  },
  {
    table: 'api_key_usage',
    tenantColumn: 'tenant_id',
    export: {
      type: 'api_key_use',
      columns: 'key_id, last_used_at',
      key: [key('key_id', 'String')],
      final: true,
    },
  },
  {
    table: 'subscriptions',
    tenantColumn: 'tenant_id',
    export: {
      type: 'subscription',
      // A webhook's signing secret stays out: it was shown once, and a leaked export must not let anyone forge alerts.
      columns: `id, name, owner_member_id, channel, replaceRegexpOne(target, ',?"secret":"[^"]*"', '') AS target,
                filter, rate_per_hour, muted_until, created_at, removed`,
      key: [key('id', 'String')],
      final: true,
    },
  },
  {
    table: 'silences',
    tenantColumn: 'tenant_id',
    export: {
      type: 'silence',
      columns: 'id, matchers, starts_at, ends_at, comment, created_by, created_at, removed',
      key: [key('id', 'String')],
      final: true,
    },
  },
  {
    table: 'anomaly_feedback',
    tenantColumn: 'tenant_id',
    export: {
      type: 'anomaly_feedback',
      columns: `anomaly_id, series, ts, label, note, actor, created_at, direction, magnitude, detectors,
                score`,
      key: [key('anomaly_id', 'String')],
      final: true,
    },
  },
  {
    table: 'series_profiles',
    tenantColumn: 'tenant_id',
    export: {
      type: 'series_profile',
      columns: 'pattern, kind, direction, seasonality, unit, model, created_at',
      key: [key('pattern', 'String')],
      final: true,
    },
  },
  {
    table: 'alert_deliveries',
    tenantColumn: 'tenant_id',
    export: {
      type: 'alert_delivery',
      // The target stays out: it holds the channel's secrets (a signing secret, a Slack URL, a routing key);
      // subscription_id names where it went, and the subscription's own record shows its target as listings do.
      columns: `id, idempotency_key, subscription_id, channel, notification, status, attempts, next_attempt_at,
                last_error, last_status, created_at, sent_at`,
      key: [key('id', 'String')],
      final: true,
    },
  },
  {
    table: 'incidents',
    tenantColumn: 'tenant_id',
    export: {
      type: 'incident',
      // state is the incident as the tracker snapshots it (series, values, anomaly ids); told names
      // subscriptions; held is an update held back from some of them (the same series data), or ''.
      columns: 'id, kind, open, state, told, held, opened_at, updated_at',
      key: [key('id', 'String')],
      final: true,
    },
  },
  {
    table: 'tenant_billing',
    tenantColumn: 'tenant_id',
    export: {
      type: 'billing_link',
      columns: 'stripe_customer_id',
      key: [key('tenant_id', 'String')],
      final: true,
    },
  },
  {
    table: 'billing_sends',
    tenantColumn: 'tenant_id',
    export: {
      type: 'billing_send',
      columns: 'meter, hour, seq, identifier, stripe_customer_id, value, status, detail, updated_at',
      key: [key('meter', 'String'), key('hour', 'DateTime'), key('seq', 'UInt32')],
      final: true,
    },
  },
  {
    table: 'tenants',
    tenantColumn: 'id',
    export: {
      type: 'tenant',
      columns: `id, name, plan, limits, llm, points_days, anomalies_days, zero_retention, closed_at,
                purge_after, created_at`,
      key: [key('id', 'String')],
      final: true,
    },
  },
];

/** Tables without tenants' rows: Seismo's own bookkeeping. */
const NOT_TENANT_TABLES = new Set(['schema_migrations']);

/** One exported row: its `type` (the table's record type) and its columns. */
export type ExportRecord = { readonly type: string } & Readonly<Record<string, unknown>>;

/** Rows of a tenant per table. */
export type TableCounts = Readonly<Record<string, number>>;

/** Rows per page of an export: bounded memory whatever the tenant holds. */
export const EXPORT_PAGE_ROWS = 5000;

/**
 * Text in, text out: instants as RFC 3339 both ways, 64-bit counts as JSON numbers. In
 * the statement's own SETTINGS clause: given as `clickhouse_settings`, chdb/connection
 * turns them into `SET`s that would stay on the client's session for every later read.
 */
const EXPORT_SETTINGS =
  "SETTINGS date_time_output_format = 'iso', output_format_json_quote_64bit_integers = 0";

/**
 * Everything a tenant has, across every table in TENANT_TABLES: counted, exported
 * (streamed page by page, each page a keyset query on the table's sort key, so no page
 * re-reads what came before and memory stays flat), or erased.
 *
 * Erasure is `ALTER TABLE ... DELETE` with `mutations_sync = 2`: the parts holding the
 * tenant's rows are rewritten without them before the call returns, so the rows are gone
 * from disk, not merely hidden as a lightweight DELETE would leave them until a merge.
 */
export class TenantDataRepository {
  constructor(private readonly clickhouse: ClickHouseAccess) {}

  /** The tenant's rows in each table (rows awaiting a merge counted too). */
  async count(tenant: TenantId): Promise<TableCounts> {
    const counts: Record<string, number> = {};
    for (const { table, tenantColumn } of TENANT_TABLES) {
      const rows = await this.read<{ n: string }>(`counting the rows of tenant ${tenant} in ${table}`, {
        query: `SELECT count() AS n FROM ${table} WHERE ${tenantColumn} = {tenant:String}`,
        query_params: { tenant },
      });
      counts[table] = Number(rows[0]?.n ?? 0);
    }
    return counts;
  }

  /** Every exported row of the tenant, table after table, page after page. */
  async *export(tenant: TenantId, pageRows = EXPORT_PAGE_ROWS): AsyncGenerator<ExportRecord> {
    for (const { table, tenantColumn, export: plan } of TENANT_TABLES) {
      if (!plan) continue;
      const keys = plan.key.map(({ column }, i) => `${column} AS _k${i}`).join(', ');
      const order = plan.key.map(({ column }) => column).join(', ');
      let after: string[] | undefined;
      for (;;) {
        const params: Record<string, unknown> = { tenant, limit: pageRows };
        let from = '';
        if (after) {
          after.forEach((value, i) => (params[`k${i}`] = value));
          from = ` AND (${order}) > (${plan.key.map((k, i) => keyParameter(k.type, i)).join(', ')})`;
        }
        const rows = await this.read<Record<string, unknown>>(`exporting ${table} of tenant ${tenant}`, {
          query: `SELECT ${plan.columns}, ${keys}
                  FROM ${table}${plan.final ? ' FINAL' : ''}
                  WHERE ${tenantColumn} = {tenant:String}${from}
                  ORDER BY ${order} LIMIT {limit:UInt32} ${EXPORT_SETTINGS}`,
          query_params: params,
        });
        for (const row of rows) {
          const record: Record<string, unknown> = { type: plan.type };
          for (const [column, value] of Object.entries(row))
            if (!column.startsWith('_k')) record[column] = value;
          yield record as ExportRecord;
        }
        if (rows.length < pageRows) break;
        const last = rows[rows.length - 1];
        after = plan.key.map((_, i) => String(last[`_k${i}`]));
      }
    }
  }

  /** Deletes the tenant's rows from every table (but the record of an erasure); the rows each held. */
  async erase(tenant: TenantId): Promise<TableCounts> {
    const erased: Record<string, number> = {};
    for (const { table, tenantColumn, keep } of TENANT_TABLES) {
      const where = `${tenantColumn} = {tenant:String}${keep ? ` AND NOT (${keep})` : ''}`;
      const rows = await this.read<{ n: string }>(`counting the rows of tenant ${tenant} in ${table}`, {
        query: `SELECT count() AS n FROM ${table} WHERE ${where}`,
        query_params: { tenant },
      });
      erased[table] = Number(rows[0]?.n ?? 0);
      if (erased[table] === 0) continue;
      try {
        await this.clickhouse.client.command({
          // Table and column names are the constants above; the tenant is a bound parameter.
          // The setting in the statement, not clickhouse_settings (a SET kept by chdb's session).
          query: `ALTER TABLE ${table} DELETE WHERE ${where} SETTINGS mutations_sync = 2`,
          query_params: { tenant },
        });
      } catch (cause) {
        throw new StorageException(
          StorageExceptionCode.WRITE_FAILED,
          `erasing the rows of tenant ${tenant} from ${table} failed: ${describeCause(cause)}`,
          { cause },
        );
      }
    }
    return erased;
  }

  /**
   * Tables of this database with a `tenant_id` column that TENANT_TABLES does not list:
   * what export and erasure would miss. Empty when the catalogue is complete.
   */
  async uncatalogued(): Promise<string[]> {
    const rows = await this.read<{ table: string }>('listing the tables', {
      query: `SELECT DISTINCT table FROM system.columns
              WHERE database = currentDatabase() AND name = 'tenant_id' ORDER BY table`,
      query_params: {},
    });
    const known = new Set(TENANT_TABLES.map((t) => t.table));
    return rows.map((r) => r.table).filter((table) => !known.has(table) && !NOT_TENANT_TABLES.has(table));
  }

  private async read<T>(
    what: string,
    statement: {
      query: string;
      query_params: Record<string, unknown>;
    },
  ): Promise<T[]> {
    try {
      const result = await this.clickhouse.client.query({ ...statement, format: 'JSONEachRow' });
      return await result.json<T>();
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

/** The last page's key value `i`, bound as text and read back as the column's type. */
function keyParameter(type: KeyType, i: number): string {
  switch (type) {
    case 'String':
      return `{k${i}:String}`;
    case 'UInt32':
      return `toUInt32({k${i}:String})`;
    case 'DateTime':
      return `parseDateTimeBestEffort({k${i}:String}, 'UTC')`;
    case 'DateTime64':
      return `parseDateTime64BestEffort({k${i}:String}, 3, 'UTC')`;
  }
}
