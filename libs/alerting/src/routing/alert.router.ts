import { type TenantId } from '@seismo/storage';
import { deliveryOf, type NewDelivery } from '../delivery/delivery';
import { type Notification, type NotifiedSeries } from '../notification';
import {
  type AlertCandidate,
  matchesFilter,
  type Silence,
  silenceOf,
  type Subscription,
} from '../subscriptions/subscription';

/** Where the router reads the tenant's subscriptions and silences: in memory, no query. */
export interface RoutingSources {
  subscriptionsOf(tenant: TenantId): readonly Subscription[];
  silencesOf(tenant: TenantId, now: number): readonly Silence[];
}

/** What became of one notification. */
export interface RoutedNotification {
  readonly deliveries: NewDelivery[];
  /** Subscriptions whose filter matched but that were muted, silenced or over their rate. */
  readonly muted: number;
  readonly silenced: number;
  readonly rateLimited: number;
}

/** Open incidents remembered per subscription (for who gets the recovery notice). */
const MAX_TRACKED_INCIDENTS = 100_000;
const HOUR_MS = 3_600_000;

/**
 * Turns a notification into one delivery per subscription that wants it.
 *
 * A subscription wants a notification when its filter matches at least one of the
 * notification's series; a silence covering every series of it holds it back, and so do a
 * mute and the subscription's hourly rate (a token bucket of `ratePerHour`). A `resolved`
 * notification goes exactly to the subscriptions that were told the incident opened (or of
 * any change since): a recovery notice nobody asked for is noise, one that is missing leaves
 * an incident open in somebody's head, so it also passes mutes, silences and rates. After a
 * restart that memory is gone, and a recovery goes to every subscription whose filter matches.
 *
 * Delivery ids are derived from the notification id and the subscription id, so routing the
 * same notification again (a replay after a restart) yields the same deliveries, which the
 * outbox keeps once.
 */
export class AlertRouter {
  /** incident id -> subscriptions told of it. Insertion order is age: the oldest go first. */
  private readonly told = new Map<string, Set<string>>();
  /** subscription id -> its hourly budget, as a token bucket. */
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly sources: RoutingSources) {}

  route(notification: Notification, now: number): RoutedNotification {
    const tenant = notification.tenantId;
    const candidates = notification.series.map((series) => candidateOf(series, notification));
    const resolving = notification.state === 'resolved';
    const toldBefore = this.told.get(notification.incidentId);
    const deliveries: NewDelivery[] = [];
    let muted = 0;
    let silenced = 0;
    let rateLimited = 0;
    const silences = this.sources.silencesOf(tenant, now);
    const allSilenced = candidates.every((candidate) => silenceOf(silences, candidate, now) !== undefined);
    for (const subscription of this.sources.subscriptionsOf(tenant)) {
      if (resolving) {
        if (toldBefore ? !toldBefore.has(subscription.id) : !this.wants(subscription, candidates)) continue;
      } else {
        if (!this.wants(subscription, candidates)) continue;
        if (subscription.mutedUntil !== undefined && now < subscription.mutedUntil) {
          muted++;
          continue;
        }
        if (allSilenced) {
          silenced++;
          continue;
        }
        if (!this.take(subscription, now)) {
          rateLimited++;
          continue;
        }
        this.remember(notification.incidentId, subscription.id);
      }
      deliveries.push(deliveryOf(notification, subscription));
    }
    if (resolving) this.told.delete(notification.incidentId);
    return { deliveries, muted, silenced, rateLimited };
  }

  private wants(subscription: Subscription, candidates: readonly AlertCandidate[]): boolean {
    return candidates.some((candidate) => matchesFilter(subscription.filter, candidate));
  }

  private take(subscription: Subscription, now: number): boolean {
    const rate = subscription.ratePerHour;
    let bucket = this.buckets.get(subscription.id);
    if (!bucket) {
      bucket = { tokens: rate, at: now };
      this.buckets.set(subscription.id, bucket);
    }
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) * rate) / HOUR_MS);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private remember(incident: string, subscription: string): void {
    let set = this.told.get(incident);
    if (!set) {
      if (this.told.size >= MAX_TRACKED_INCIDENTS) this.told.delete(this.told.keys().next().value!);
      set = new Set();
      this.told.set(incident, set);
    }
    set.add(subscription);
  }

  /** Forgets the buckets of subscriptions that no longer exist. */
  prune(existing: ReadonlySet<string>): void {
    for (const id of this.buckets.keys()) if (!existing.has(id)) this.buckets.delete(id);
  }
}

function candidateOf(series: NotifiedSeries, notification: Notification): AlertCandidate {
  return {
    series: series.series,
    metric: series.metric,
    labels: series.labels,
    // A series is as bad as its incident; its own score still filters on min_score.
    severity: notification.severity,
    score: series.score,
    detectors: series.detectors ?? [],
  };
}
