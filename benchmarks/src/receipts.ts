import { type Receipt } from './webhook-receiver';

/**
 * What the alerting benchmarks make of a receiver's receipts: which of the things sent
 * arrived, how long each took, and what arrived that should not have (a delivery twice,
 * one nobody sent). Times are milliseconds on one clock (performance.now()).
 */

/** Deliveries matched by their id (the Seismo-Delivery header). */
export interface DeliveryMatch {
  /** Per delivery received, its first receipt's time less its enqueue's, in enqueue order. */
  readonly latencies: number[];
  /** Deliveries received at least once. */
  readonly received: number;
  /** Deliveries enqueued and never received. */
  readonly missing: number;
  /** Receipts of a delivery already received: the outbox sent it again. */
  readonly duplicates: number;
  /** Receipts naming a delivery not enqueued. */
  readonly unknown: number;
  /** The last first receipt, or undefined when nothing arrived. */
  readonly lastAt: number | undefined;
}

export function matchDeliveryReceipts(
  enqueuedAt: ReadonlyMap<string, number>,
  receipts: readonly Pick<Receipt, 'at' | 'deliveryId'>[],
): DeliveryMatch {
  const first = new Map<string, number>();
  let duplicates = 0;
  let unknown = 0;
  for (const { at, deliveryId } of receipts) {
    if (!enqueuedAt.has(deliveryId)) unknown++;
    else if (first.has(deliveryId)) duplicates++;
    else first.set(deliveryId, at);
  }
  const latencies: number[] = [];
  let lastAt: number | undefined;
  for (const [id, enqueued] of enqueuedAt) {
    const at = first.get(id);
    if (at === undefined) continue;
    latencies.push(at - enqueued);
    lastAt = lastAt === undefined ? at : Math.max(lastAt, at);
  }
  return {
    latencies,
    received: first.size,
    missing: enqueuedAt.size - first.size,
    duplicates,
    unknown,
    lastAt,
  };
}

/** An anomaly injected into a series: a spike at `ts`, in a request sent at `sentAt`. */
export interface Injection {
  /** The canonical series key the webhook body names. */
  readonly series: string;
  /** Epoch milliseconds of the spike's point. */
  readonly ts: number;
  readonly sentAt: number;
}

/** Injections matched by the series and point a webhook body names. */
export interface AlertMatch {
  /** Per injection received, its first receipt's time less its request's sending, in injection order. */
  readonly latencies: number[];
  readonly received: number;
  readonly missing: number;
  /** Further receipts naming an injection already received. */
  readonly repeats: number;
  /** Receipts naming no injection (other series, other points, other kinds of incident). */
  readonly others: number;
  /** Receipts whose body is not a webhook body (not JSON, no series list). */
  readonly unreadable: number;
}

/** What is read of a webhook body (WebhookBody, version 1). */
interface NamedBody {
  readonly kind?: unknown;
  readonly series?: unknown;
}

/**
 * A receipt names an injection when it tells of an anomaly incident and one of its series
 * is the injection's series at the injection's point (`ts` as RFC 3339, as the webhook
 * writes it): a later anomaly of the same series, or a no_data incident of it, is not it.
 */
export function matchAlertReceipts(
  injections: readonly Injection[],
  receipts: readonly Pick<Receipt, 'at' | 'body'>[],
): AlertMatch {
  const byPoint = new Map<string, number>();
  injections.forEach((injection, i) => byPoint.set(pointKey(injection.series, injection.ts), i));
  const first = new Map<number, number>();
  let repeats = 0;
  let others = 0;
  let unreadable = 0;
  for (const { at, body } of receipts) {
    const named = namedInjections(body, byPoint);
    if (named === undefined) {
      unreadable++;
      continue;
    }
    if (named.length === 0) others++;
    for (const i of named) {
      if (first.has(i)) repeats++;
      else first.set(i, at);
    }
  }
  const latencies: number[] = [];
  injections.forEach((injection, i) => {
    const at = first.get(i);
    if (at !== undefined) latencies.push(at - injection.sentAt);
  });
  return {
    latencies,
    received: first.size,
    missing: injections.length - first.size,
    repeats,
    others,
    unreadable,
  };
}

/** The injections a body names; undefined when it is no webhook body. */
function namedInjections(body: string, byPoint: ReadonlyMap<string, number>): number[] | undefined {
  let parsed: NamedBody;
  try {
    parsed = JSON.parse(body) as NamedBody;
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(parsed.series)) return undefined;
  if (parsed.kind !== 'anomaly') return [];
  const named: number[] = [];
  for (const entry of parsed.series as unknown[]) {
    const { series, ts } = (entry ?? {}) as { series?: unknown; ts?: unknown };
    if (typeof series !== 'string' || typeof ts !== 'string') continue;
    const i = byPoint.get(pointKey(series, Date.parse(ts)));
    if (i !== undefined) named.push(i);
  }
  return named;
}

function pointKey(series: string, ts: number): string {
  return `${ts}\n${series}`;
}
