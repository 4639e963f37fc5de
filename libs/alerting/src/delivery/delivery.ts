import { createHash } from 'node:crypto';
import { type ChannelKind, type ChannelTarget, type Delivery } from '../channel';
import { type Notification } from '../notification';

/** Where a delivery stands: `pending` until it is sent, or `dead` when it never will be. */
export type DeliveryStatus = 'pending' | 'sent' | 'dead';
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'sent', 'dead'];

/** What a caller hands the dispatcher: a delivery before any attempt. */
export type NewDelivery = Omit<Delivery, 'attempt'>;

/** A row of the outbox as it stands. */
export interface DeliveryRecord extends NewDelivery {
  readonly status: DeliveryStatus;
  /** Attempts made so far (0 before the first). */
  readonly attempts: number;
  /** Epoch milliseconds: no attempt before then. */
  readonly nextAttemptAt: number;
  /** Why the last attempt failed; empty when none did. */
  readonly lastError: string;
  /** The receiver's status code (HTTP, SMTP) on the last attempt, when it answered one. */
  readonly lastStatus: number | null;
  /** The order deliveries were enqueued in (epoch microseconds, strictly increasing within a process). */
  readonly seq: number;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** Epoch milliseconds, once sent. */
  readonly sentAt: number | null;
}

/** A delivery as a listing shows it: the target masked as subscription listings mask it. */
export interface ListedDelivery extends Omit<DeliveryRecord, 'target'> {
  readonly channel: ChannelKind;
  readonly target: Record<string, unknown>;
}

/** Filters of a tenant's deliveries, newest first. */
export interface DeliveryQuery {
  readonly status?: DeliveryStatus;
  readonly subscriptionId?: string;
  /** Epoch milliseconds, inclusive, on `createdAt`. */
  readonly from?: number;
  /** Epoch milliseconds, exclusive. */
  readonly to?: number;
  readonly limit: number;
}

/**
 * The deliveries of `notification` to one subscription: one, or for email one per
 * recipient, so each recipient's mail server decides that recipient's delivery alone (a
 * deferral retries only it, a refusal ends only it, and a retry never mails again those
 * who took it). Recipients listed twice get one.
 */
export function deliveriesOf(
  notification: Notification,
  subscription: { readonly id: string; readonly target: ChannelTarget },
): NewDelivery[] {
  const { target } = subscription;
  if (target.kind !== 'email') return [deliveryOf(notification, subscription)];
  return [...new Set(target.to)].map((to) =>
    deliveryOf(notification, { id: subscription.id, target: { kind: 'email', to: [to] } }),
  );
}

/**
 * The delivery of `notification` to one subscription's target as given (`deliveriesOf`
 * splits an email target first). Its id (and idempotency key, the same value) is derived
 * from the notification's id, the subscription's and, for email, the target's recipients,
 * so the same notification processed again (a replay after a restart) makes the same
 * delivery, which the outbox stores once.
 */
export function deliveryOf(
  notification: Notification,
  subscription: { readonly id: string; readonly target: ChannelTarget },
): NewDelivery {
  const { target } = subscription;
  const recipients = target.kind === 'email' ? target.to.map((to) => `\n${to}`).join('') : '';
  const id = `dlv_${createHash('sha256')
    .update(`${notification.tenantId}\n${notification.id}\n${subscription.id}${recipients}`)
    .digest('hex')
    .slice(0, 32)}`;
  return {
    id,
    idempotencyKey: id,
    tenantId: notification.tenantId,
    subscriptionId: subscription.id,
    target,
    notification,
  };
}

/**
 * A dead delivery given another round: pending again, due now, its attempts counted from 0
 * so it gets the whole backoff schedule, its last error kept until an attempt replaces it.
 * Its id and idempotency key stay: a receiver that did take it drops the repeat.
 */
export function revived(record: DeliveryRecord, now: number): DeliveryRecord {
  return { ...record, status: 'pending', attempts: 0, nextAttemptAt: now };
}
