import {
  type ClickHouseAccess,
  describeCause,
  nextRowVersion,
  parseTenantId,
  requireInstant,
  requireQueryInteger,
  requireQueryText,
  StorageException,
  StorageExceptionCode,
  type TenantId,
} from '@seismo/storage';
import { type ChannelTarget } from '../channel';
import { type Notification } from '../notification';
import { publicTarget } from '../subscriptions/subscription';
import {
  DELIVERY_STATUSES,
  type DeliveryQuery,
  type DeliveryRecord,
  type DeliveryStatus,
  type ListedDelivery,
} from './delivery';

/** Most deliveries one `list` returns. */
export const MAX_DELIVERY_LIMIT = 1000;

/**
 * The version of a delivery's first row, below any change's (epoch microseconds): a
 * delivery enqueued again can never win over a retry, a send or a death already stored.
 */
const ENQUEUED_VERSION = 1;

/** What `pending` leaves out and how much it takes. */
export interface PendingQuery {
  /** Most rows in all. */
  readonly limit: number;
  /** Most rows of any one subscription. */
  readonly perSubscription: number;
  /** Deliveries the caller already holds. */
  readonly excludingIds?: readonly string[];
  /** Subscriptions the caller has no room for. */
  readonly excludingSubscriptions?: readonly string[];
}

interface DeliveryRow {
  tenant_id: string;
  id: string;
  idempotency_key: string;
  subscription_id: string;
  channel: string;
  target: string;
  notification: string;
  status: string;
  attempts: number;
  next_attempt_ms: string;
  last_error: string;
  last_status: number | null;
  seq: string;
  created_ms: string;
  sent_ms: string | null;
}

const COLUMNS = `tenant_id, id, idempotency_key, subscription_id, channel, target, notification, status, attempts,
                 toUnixTimestamp64Milli(next_attempt_at) AS next_attempt_ms, last_error, last_status, seq,
                 toUnixTimestamp64Milli(created_at) AS created_ms, toUnixTimestamp64Milli(sent_at) AS sent_ms`;

/**
 * The only code that reads or writes `alert_deliveries` (migration 0012), the outbox. A
 * change of a delivery is a new row with a higher version; reads use FINAL. Writes resolve
 * once ClickHouse stored the rows.
 */
export class DeliveryRepository {
  constructor(private readonly clickhouse: ClickHouseAccess) {}

  /**
   * Stores the deliveries not stored yet (rows may belong to several tenants) and answers
   * those: one already there, in whatever state, is left as it is, so a notification
   * processed again never turns a sent delivery back to pending.
   */
  async enqueue(records: readonly DeliveryRecord[]): Promise<DeliveryRecord[]> {
    if (records.length === 0) return [];
    const present = new Set(
      (
        await this.read<{ tenant_id: string; id: string }>(
          `looking up ${records.length} deliveries`,
          // The tenants narrow the read to their parts of the sort key; the ids pick the rows.
          `SELECT DISTINCT tenant_id, id FROM alert_deliveries
           WHERE tenant_id IN {tenants:Array(String)} AND id IN {ids:Array(String)}`,
          { tenants: [...new Set(records.map((r) => r.tenantId))], ids: records.map((r) => r.id) },
        )
      ).map((row) => `${row.tenant_id}\n${row.id}`),
    );
    const seen = new Set<string>();
    const fresh = records.filter((r) => {
      const key = `${r.tenantId}\n${r.id}`;
      if (present.has(key) || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    // Two processes enqueueing the same delivery at once may both get past the lookup:
    // both rows carry ENQUEUED_VERSION, so neither undoes what an attempt recorded.
    await this.insert(`enqueueing ${fresh.length} deliveries`, fresh, () => ENQUEUED_VERSION);
    return fresh;
  }

  /** Stores deliveries as they now are (after an attempt): one insert for the lot. */
  async record(records: readonly DeliveryRecord[]): Promise<void> {
    await this.insert(`recording ${records.length} delivery outcomes`, records, nextRowVersion);
  }

  /**
   * Pending deliveries of every tenant, in the order they were enqueued, due or not: what
   * a process resumes after a restart, or takes once it has room again.
   */
  async pending(query: PendingQuery): Promise<DeliveryRecord[]> {
    const rows = await this.read<DeliveryRow>(
      'loading pending deliveries',
      `SELECT ${COLUMNS}
       FROM alert_deliveries FINAL
       WHERE status = 'pending' AND id NOT IN {ids:Array(String)}
         AND subscription_id NOT IN {subscriptions:Array(String)}
       ORDER BY seq, id
       LIMIT {perSubscription:UInt32} BY tenant_id, subscription_id
       LIMIT {limit:UInt32}`,
      {
        ids: query.excludingIds ?? [],
        subscriptions: query.excludingSubscriptions ?? [],
        perSubscription: requireQueryInteger(query.perSubscription, 'perSubscription', 1, 1_000_000),
        limit: requireQueryInteger(query.limit, 'limit', 1, 1_000_000),
      },
    );
    return rows.map(recordOf);
  }

  /** One of the tenant's deliveries as stored; undefined when it has none of that id. */
  async get(tenant: TenantId, id: string): Promise<DeliveryRecord | undefined> {
    const rows = await this.read<DeliveryRow>(
      `reading delivery ${id}`,
      `SELECT ${COLUMNS} FROM alert_deliveries FINAL WHERE tenant_id = {tenant:String} AND id = {id:String}`,
      { tenant, id: requireQueryText(id, 'id', 256) },
    );
    return rows[0] && recordOf(rows[0]);
  }

  /** A tenant's deliveries, newest first, their targets masked as subscription listings mask them. */
  async list(tenant: TenantId, query: DeliveryQuery): Promise<ListedDelivery[]> {
    const conditions = ['tenant_id = {tenant:String}'];
    const params: Record<string, unknown> = {
      tenant,
      limit: requireQueryInteger(query.limit, 'limit', 1, MAX_DELIVERY_LIMIT),
    };
    // Only fixed fragments are joined here; every value is a bound parameter.
    if (query.status !== undefined) {
      if (!DELIVERY_STATUSES.includes(query.status)) {
        throw new StorageException(
          StorageExceptionCode.INVALID_QUERY,
          `status is ${JSON.stringify(query.status)}: expected one of ${DELIVERY_STATUSES.join(', ')}`,
        );
      }
      conditions.push('status = {status:String}');
      params.status = query.status;
    }
    if (query.subscriptionId !== undefined) {
      conditions.push('subscription_id = {subscription:String}');
      params.subscription = requireQueryText(query.subscriptionId, 'subscriptionId', 256);
    }
    if (query.from !== undefined) {
      conditions.push("created_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')");
      params.from = requireInstant(query.from, 'from');
    }
    if (query.to !== undefined) {
      conditions.push("created_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')");
      params.to = requireInstant(query.to, 'to');
    }
    const rows = await this.read<DeliveryRow>(
      `listing the deliveries of tenant ${tenant}`,
      `SELECT ${COLUMNS}
       FROM alert_deliveries FINAL
       WHERE ${conditions.join(' AND ')}
       ORDER BY created_at DESC, seq DESC, id
       LIMIT {limit:UInt32}`,
      params,
    );
    return rows.map((row) => {
      const { target, ...rest } = recordOf(row);
      return { ...rest, channel: target.kind, target: publicTarget(target) };
    });
  }

  private async insert(
    what: string,
    records: readonly DeliveryRecord[],
    version: () => number,
  ): Promise<void> {
    if (records.length === 0) return;
    const values = records.map((r) => ({
      tenant_id: r.tenantId,
      id: r.id,
      idempotency_key: r.idempotencyKey,
      subscription_id: r.subscriptionId,
      channel: r.target.kind,
      target: JSON.stringify(r.target),
      notification: JSON.stringify(r.notification),
      status: r.status,
      attempts: r.attempts,
      next_attempt_at: r.nextAttemptAt,
      last_error: r.lastError,
      last_status: r.lastStatus,
      seq: r.seq,
      created_at: r.createdAt,
      sent_at: r.sentAt,
      version: version(),
    }));
    try {
      await this.clickhouse.client.insert({ table: 'alert_deliveries', values, format: 'JSONEachRow' });
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.WRITE_FAILED,
        `${what} failed: ${describeCause(cause)}`,
        {
          cause,
        },
      );
    }
  }

  private async read<T>(what: string, query: string, params: Record<string, unknown>): Promise<T[]> {
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
        `${what} failed: ${describeCause(cause)}`,
        {
          cause,
        },
      );
    }
  }
}

function recordOf(row: DeliveryRow): DeliveryRecord {
  return {
    id: row.id,
    idempotencyKey: row.idempotency_key,
    tenantId: parseTenantId(row.tenant_id),
    subscriptionId: row.subscription_id,
    target: JSON.parse(row.target) as ChannelTarget,
    notification: JSON.parse(row.notification) as Notification,
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_ms),
    lastError: row.last_error,
    lastStatus: row.last_status === null ? null : Number(row.last_status),
    seq: Number(row.seq),
    createdAt: Number(row.created_ms),
    sentAt: row.sent_ms === null ? null : Number(row.sent_ms),
  };
}
