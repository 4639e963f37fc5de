import { publicTarget, type Silence, type Subscription } from '@seismo/alerting';
import { type KeyIdentity, missingPermission } from '@seismo/tenancy';

export interface SubscriptionBody {
  id: string;
  name: string;
  channel: string;
  target: Record<string, unknown>;
  filter: Record<string, unknown>;
  rate_limit_per_hour: number;
  owner_member_id?: string;
  muted_until?: string;
  created_at: string;
}

export interface SilenceBody {
  id: string;
  matchers: Record<string, unknown>;
  starts_at: string;
  ends_at: string;
  comment: string;
  created_by: string;
  created_at: string;
}

export function subscriptionBody(subscription: Subscription): SubscriptionBody {
  const { filter } = subscription;
  return {
    id: subscription.id,
    name: subscription.name,
    channel: subscription.target.kind,
    target: publicTarget(subscription.target),
    filter: {
      ...(filter.series !== undefined ? { series: filter.series } : {}),
      ...(filter.labels !== undefined ? { labels: filter.labels } : {}),
      ...(filter.minSeverity !== undefined ? { min_severity: filter.minSeverity } : {}),
      ...(filter.minScore !== undefined ? { min_score: filter.minScore } : {}),
      ...(filter.detectors !== undefined ? { detectors: filter.detectors } : {}),
    },
    rate_limit_per_hour: subscription.ratePerHour,
    ...(subscription.ownerMemberId !== undefined ? { owner_member_id: subscription.ownerMemberId } : {}),
    ...(subscription.mutedUntil !== undefined
      ? { muted_until: new Date(subscription.mutedUntil).toISOString() }
      : {}),
    created_at: new Date(subscription.createdAt).toISOString(),
  };
}

export function silenceBody(silence: Silence): SilenceBody {
  return {
    id: silence.id,
    matchers: { ...silence.matchers },
    starts_at: new Date(silence.startsAt).toISOString(),
    ends_at: new Date(silence.endsAt).toISOString(),
    comment: silence.comment,
    created_by: silence.createdBy,
    created_at: new Date(silence.createdAt).toISOString(),
  };
}

/** What a key may see of the subscriptions: all with the admin scope (and role), else its member's own. */
export function viewerOf(identity: KeyIdentity): { admin: boolean; memberId?: string } {
  const admin = missingPermission(identity.key.scopes, identity.member?.role, 'admin') === undefined;
  return { admin, ...(identity.member ? { memberId: identity.member.id } : {}) };
}
