import { type TenantId } from '@seismo/storage';
import { deliveriesOf, type NewDelivery } from '../delivery/delivery';
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

export interface AlertRouterOptions {
  /** Least time between two notifications of one incident to one subscription; later updates wait (default 60 s). */
  readonly minUpdateIntervalMs?: number;
}

/** Open incidents remembered per subscription (for who gets the recovery notice). */
const MAX_TRACKED_INCIDENTS = 100_000;
const HOUR_MS = 3_600_000;
const DEFAULT_MIN_UPDATE_INTERVAL_MS = 60_000;

const NOTHING_ROUTED: RoutedNotification = { deliveries: [], muted: 0, silenced: 0, rateLimited: 0 };

/**
 * An incident's latest update held back from the subscriptions told of it too recently, as
 * a store keeps it across a restart (`heldOf`, `restoreHeld`).
 */
export interface HeldNotification {
  readonly notification: Notification;
  /** The subscriptions it is held from, each to hear of it once the update interval since it was told is over. */
  readonly subscriptions: readonly string[];
}

/** The latest update of an incident held back from the subscriptions told of it too recently. */
interface HeldUpdate {
  notification: Notification;
  readonly subscriptions: Set<string>;
}

/**
 * Turns a notification into one delivery per subscription that wants it (for email, one per
 * recipient: `deliveriesOf`).
 *
 * A subscription wants a notification when its filter matches at least one of the
 * notification's series; a silence covering every series of it holds it back, and so do a
 * mute and the subscription's hourly rate (a token bucket of `ratePerHour`). A `resolved`
 * notification goes exactly to the subscriptions that were told the incident opened (or of
 * any change since): a recovery notice nobody asked for is noise, one that is missing leaves
 * an incident open in somebody's head, so it also passes mutes, silences and rates. That
 * memory is handed over with `toldOf` and taken back after a restart with `restoreTold`; an
 * incident nobody is remembered as told of (none was, or it was forgotten past the bound)
 * recovers to every subscription whose filter matches.
 *
 * Incidents are grouped before routing (every series of a host in one incident), so a
 * subscription may first want an incident when a series it matches joins it: that update
 * goes to it at once, as `opened` (for that subscriber, it is). A subscription told of an incident hears of it again no sooner than
 * `minUpdateIntervalMs`; the latest update held back meanwhile goes out on `tick`.
 *
 * Delivery ids are derived from the notification id and the subscription id (and an email's
 * recipient), so routing the same notification again (a replay after a restart) yields the
 * same deliveries, which the outbox keeps once. A subscription's hourly rate counts a
 * notification once, however many recipients it goes to.
 *
 * Memory: at most 100,000 incidents remembered (the oldest go first), each with the
 * subscriptions told of it and the update held back; `toldOf`, `heldOf` and their `restore`
 * cost what one incident holds. The update held back is handed over too (`heldOf`,
 * `restoreHeld`): restored after a restart, it goes out on `tick` to the same subscriptions,
 * with the same delivery ids, so one already sent before a crash is kept once by the outbox.
 */
export class AlertRouter {
  /**
   * incident id -> subscription id -> when it was last told of it. Insertion order is age:
   * the oldest go first.
   */
  private readonly told = new Map<string, Map<string, number>>();
  /** incident id -> its latest update not yet told to some subscriptions. */
  private readonly held = new Map<string, HeldUpdate>();
  /** subscription id -> its hourly budget, as a token bucket. */
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly minUpdateIntervalMs: number;

  constructor(
    private readonly sources: RoutingSources,
    options: AlertRouterOptions = {},
  ) {
    this.minUpdateIntervalMs = options.minUpdateIntervalMs ?? DEFAULT_MIN_UPDATE_INTERVAL_MS;
    if (!(Number.isInteger(this.minUpdateIntervalMs) && this.minUpdateIntervalMs >= 0)) {
      throw new RangeError(
        `minUpdateIntervalMs must be an integer of milliseconds, got ${this.minUpdateIntervalMs}`,
      );
    }
  }

  route(notification: Notification, now: number): RoutedNotification {
    if (notification.state === 'resolved') return this.resolve(notification);
    const candidates = notification.series.map((series) => candidateOf(series, notification));
    const wanting = this.sources
      .subscriptionsOf(notification.tenantId)
      .filter((subscription) => this.wants(subscription, candidates));
    const told = this.told.get(notification.incidentId);
    const due: Subscription[] = [];
    for (const subscription of wanting) {
      const toldAt = told?.get(subscription.id);
      if (
        notification.state === 'updated' &&
        toldAt !== undefined &&
        now - toldAt < this.minUpdateIntervalMs
      ) {
        this.hold(notification.incidentId, notification, subscription.id);
      } else {
        due.push(subscription);
      }
    }
    return this.deliver(notification, candidates, due, now);
  }

  /** The held updates now due, to the subscriptions they were held from. */
  tick(now: number): RoutedNotification[] {
    const out: RoutedNotification[] = [];
    for (const [incident, held] of this.held) {
      const told = this.told.get(incident);
      const dueIds = [...held.subscriptions].filter(
        (id) => now - (told?.get(id) ?? 0) >= this.minUpdateIntervalMs,
      );
      if (dueIds.length === 0) continue;
      for (const id of dueIds) held.subscriptions.delete(id);
      if (held.subscriptions.size === 0) this.held.delete(incident);
      const notification = held.notification;
      const ids = new Set(dueIds);
      const due = this.sources.subscriptionsOf(notification.tenantId).filter((s) => ids.has(s.id));
      const candidates = notification.series.map((series) => candidateOf(series, notification));
      out.push(this.deliver(notification, candidates, due, now));
    }
    return out;
  }

  /** Mutes, silences and rates decide which of the subscriptions due are told now. */
  private deliver(
    notification: Notification,
    candidates: readonly AlertCandidate[],
    due: readonly Subscription[],
    now: number,
  ): RoutedNotification {
    if (due.length === 0) return NOTHING_ROUTED;
    const deliveries: NewDelivery[] = [];
    let muted = 0;
    let silenced = 0;
    let rateLimited = 0;
    const silences = this.sources.silencesOf(notification.tenantId, now);
    const allSilenced = candidates.every((candidate) => silenceOf(silences, candidate, now) !== undefined);
    for (const subscription of due) {
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
      const first = !this.told.get(notification.incidentId)?.has(subscription.id);
      this.remember(notification.incidentId, subscription.id, now);
      this.held.get(notification.incidentId)?.subscriptions.delete(subscription.id);
      deliveries.push(...deliveriesOf(first ? asOpened(notification) : notification, subscription));
    }
    return { deliveries, muted, silenced, rateLimited };
  }

  /** A recovery goes to those told of the incident, through mutes, silences and rates. */
  private resolve(notification: Notification): RoutedNotification {
    const told = this.told.get(notification.incidentId);
    const candidates = notification.series.map((series) => candidateOf(series, notification));
    const deliveries = this.sources
      .subscriptionsOf(notification.tenantId)
      .filter((subscription) => (told ? told.has(subscription.id) : this.wants(subscription, candidates)))
      .flatMap((subscription) => deliveriesOf(notification, subscription));
    this.told.delete(notification.incidentId);
    this.held.delete(notification.incidentId);
    return { deliveries, muted: 0, silenced: 0, rateLimited: 0 };
  }

  private hold(incident: string, notification: Notification, subscription: string): void {
    let held = this.held.get(incident);
    if (!held) {
      held = { notification, subscriptions: new Set() };
      this.held.set(incident, held);
    }
    held.notification = notification;
    held.subscriptions.add(subscription);
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

  private remember(incident: string, subscription: string, now: number): void {
    let told = this.told.get(incident);
    if (!told) {
      if (this.told.size >= MAX_TRACKED_INCIDENTS) {
        const oldest = this.told.keys().next().value!;
        this.told.delete(oldest);
        this.held.delete(oldest);
      }
      told = new Map();
      this.told.set(incident, told);
    }
    told.set(subscription, now);
  }

  /**
   * The subscriptions told of an incident, each with when it was last told (epoch
   * milliseconds): what a store keeps so a restarted process routes the incident as this
   * one would (`restoreTold`). Empty when none is remembered.
   */
  toldOf(incidentId: string): Record<string, number> {
    const told = this.told.get(incidentId);
    return told ? Object.fromEntries(told) : {};
  }

  /**
   * Takes back what `toldOf` said of an open incident before a restart: those subscriptions
   * hear of its next change as `updated` (no sooner than the update interval after the time
   * given) and of its resolution, whatever their filter says by then.
   */
  restoreTold(incidentId: string, told: Readonly<Record<string, number>>): void {
    for (const [subscription, at] of Object.entries(told)) this.remember(incidentId, subscription, at);
  }

  /**
   * The update of an incident held back and the subscriptions it is held from: what a store
   * keeps so a restarted process still sends it (`restoreHeld`). Undefined when none is held.
   */
  heldOf(incidentId: string): HeldNotification | undefined {
    const held = this.held.get(incidentId);
    return held && held.subscriptions.size > 0
      ? { notification: held.notification, subscriptions: [...held.subscriptions] }
      : undefined;
  }

  /**
   * Takes back what `heldOf` said of an open incident before a restart, after `restoreTold`:
   * the update goes out on the first `tick` at least the update interval after each
   * subscription was told, at once for one no longer remembered as told.
   */
  restoreHeld(incidentId: string, held: HeldNotification): void {
    for (const subscription of held.subscriptions) this.hold(incidentId, held.notification, subscription);
  }

  /** Forgets the buckets of subscriptions that no longer exist. */
  prune(existing: ReadonlySet<string>): void {
    for (const id of this.buckets.keys()) if (!existing.has(id)) this.buckets.delete(id);
  }
}

/**
 * An incident as a subscription first hears of it: opened, whatever changed it last (a
 * series it matches joined). Its id keeps the incident's sequence, so it is stable too.
 */
function asOpened(notification: Notification): Notification {
  if (notification.state === 'opened') return notification;
  const sequence = notification.id.slice(notification.id.lastIndexOf(':') + 1);
  return { ...notification, state: 'opened', id: `${notification.incidentId}:opened:${sequence}` };
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
