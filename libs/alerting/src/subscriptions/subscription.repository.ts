import {
  type ClickHouseAccess,
  describeCause,
  nextRowVersion,
  parseTenantId,
  StorageException,
  StorageExceptionCode,
} from '@seismo/storage';
import { type ChannelTarget } from '../channel';
import {
  type Silence,
  type Subscription,
  type SubscriptionFilter,
  type SeriesMatchers,
} from './subscription';

interface SubscriptionRow {
  tenant_id: string;
  id: string;
  name: string;
  owner_member_id: string;
  filter: string;
  target: string;
  rate_per_hour: number;
  muted_ms: string | null;
  created_ms: string;
}

interface SilenceRow {
  tenant_id: string;
  id: string;
  matchers: string;
  starts_ms: string;
  ends_ms: string;
  comment: string;
  created_by: string;
  created_ms: string;
}

/**
 * The only code that reads or writes `subscriptions` and `silences` (migration 0011).
 * Writes resolve once ClickHouse stored the row; reads use FINAL and leave removed rows
 * out. Filters, targets and matchers are stored as JSON in the domain's own shape.
 */
export class SubscriptionRepository {
  constructor(private readonly clickhouse: ClickHouseAccess) {}

  async writeSubscription(subscription: Subscription, removed = false): Promise<void> {
    await this.write(`subscription ${subscription.id} of tenant ${subscription.tenantId}`, {
      query: `INSERT INTO subscriptions (tenant_id, id, name, owner_member_id, filter, channel, target, rate_per_hour,
                                         muted_until, created_at, removed, version)
              SELECT {tenantId:String}, {id:String}, {name:String}, {owner:String}, {filter:String}, {channel:String},
                     {target:String}, {rate:UInt32}, fromUnixTimestamp64Milli({muted:Nullable(Int64)}, 'UTC'),
                     fromUnixTimestamp64Milli({createdAt:Int64}, 'UTC'), {removed:UInt8}, {version:UInt64}`,
      query_params: {
        tenantId: subscription.tenantId,
        id: subscription.id,
        name: subscription.name,
        owner: subscription.ownerMemberId ?? '',
        filter: JSON.stringify(subscription.filter),
        channel: subscription.target.kind,
        target: JSON.stringify(subscription.target),
        rate: subscription.ratePerHour,
        muted: subscription.mutedUntil ?? null,
        createdAt: subscription.createdAt,
        removed: removed ? 1 : 0,
        version: nextRowVersion(),
      },
    });
  }

  async writeSilence(silence: Silence, removed = false): Promise<void> {
    await this.write(`silence ${silence.id} of tenant ${silence.tenantId}`, {
      query: `INSERT INTO silences (tenant_id, id, matchers, starts_at, ends_at, comment, created_by, created_at, removed, version)
              SELECT {tenantId:String}, {id:String}, {matchers:String},
                     fromUnixTimestamp64Milli({startsAt:Int64}, 'UTC'), fromUnixTimestamp64Milli({endsAt:Int64}, 'UTC'),
                     {comment:String}, {createdBy:String}, fromUnixTimestamp64Milli({createdAt:Int64}, 'UTC'),
                     {removed:UInt8}, {version:UInt64}`,
      query_params: {
        tenantId: silence.tenantId,
        id: silence.id,
        matchers: JSON.stringify(silence.matchers),
        startsAt: silence.startsAt,
        endsAt: silence.endsAt,
        comment: silence.comment,
        createdBy: silence.createdBy,
        createdAt: silence.createdAt,
        removed: removed ? 1 : 0,
        version: nextRowVersion(),
      },
    });
  }

  /** Every subscription not removed, and every silence not removed that has not ended by `now`. */
  async loadActive(now = Date.now()): Promise<{ subscriptions: Subscription[]; silences: Silence[] }> {
    try {
      const subscriptions = await this.rows<SubscriptionRow>(
        `SELECT tenant_id, id, name, owner_member_id, filter, target, rate_per_hour,
                toUnixTimestamp64Milli(muted_until) AS muted_ms, toUnixTimestamp64Milli(created_at) AS created_ms
         FROM subscriptions FINAL WHERE removed = 0`,
      );
      const silences = await this.rows<SilenceRow>(
        `SELECT tenant_id, id, matchers, toUnixTimestamp64Milli(starts_at) AS starts_ms,
                toUnixTimestamp64Milli(ends_at) AS ends_ms, comment, created_by,
                toUnixTimestamp64Milli(created_at) AS created_ms
         FROM silences FINAL WHERE removed = 0 AND ends_at > fromUnixTimestamp64Milli({now:Int64}, 'UTC')`,
        { now },
      );
      return { subscriptions: subscriptions.map(subscriptionOf), silences: silences.map(silenceOf) };
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.READ_FAILED,
        `loading subscriptions and silences failed: ${describeCause(cause)}`,
        { cause },
      );
    }
  }

  private async rows<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    const result = await this.clickhouse.client.query({ query, query_params: params, format: 'JSONEachRow' });
    return result.json<T>();
  }

  private async write(what: string, statement: { query: string; query_params: Record<string, unknown> }) {
    try {
      await this.clickhouse.client.command(statement);
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.WRITE_FAILED,
        `storing ${what} failed: ${describeCause(cause)}`,
        {
          cause,
        },
      );
    }
  }
}

function subscriptionOf(row: SubscriptionRow): Subscription {
  return {
    id: row.id,
    tenantId: parseTenantId(row.tenant_id),
    name: row.name,
    ...(row.owner_member_id ? { ownerMemberId: row.owner_member_id } : {}),
    filter: JSON.parse(row.filter) as SubscriptionFilter,
    target: JSON.parse(row.target) as ChannelTarget,
    ratePerHour: Number(row.rate_per_hour),
    ...(row.muted_ms !== null ? { mutedUntil: Number(row.muted_ms) } : {}),
    createdAt: Number(row.created_ms),
  };
}

function silenceOf(row: SilenceRow): Silence {
  return {
    id: row.id,
    tenantId: parseTenantId(row.tenant_id),
    matchers: JSON.parse(row.matchers) as SeriesMatchers,
    startsAt: Number(row.starts_ms),
    endsAt: Number(row.ends_ms),
    comment: row.comment,
    createdBy: row.created_by,
    createdAt: Number(row.created_ms),
  };
}
