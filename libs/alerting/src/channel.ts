import { type TenantId } from '@seismo/storage';
import { type Notification } from './notification';

/** The channels a subscription may name. */
export type ChannelKind = 'webhook' | 'slack' | 'email' | 'pagerduty';
export const CHANNEL_KINDS: readonly ChannelKind[] = ['webhook', 'slack', 'email', 'pagerduty'];

/** Where a subscription's notifications go, per channel. */
export type ChannelTarget =
  /** `secret` signs each request (HMAC-SHA256 over timestamp and body). */
  | { readonly kind: 'webhook'; readonly url: string; readonly secret: string }
  /** A Slack incoming-webhook URL. */
  | { readonly kind: 'slack'; readonly url: string }
  | { readonly kind: 'email'; readonly to: readonly string[] }
  /** An Events API v2 integration's routing key; `url` only to point at another endpoint (tests). */
  | { readonly kind: 'pagerduty'; readonly routingKey: string; readonly url?: string };

/**
 * One notification for one subscription (for email, one recipient of it): a row of the
 * outbox, durable before any send.
 */
export interface Delivery {
  readonly id: string;
  /**
   * Sent with every attempt (a header, or the channel's own field: PagerDuty's dedup_key
   * is the incident's), so a receiver can drop repeats. Stable across retries and restarts.
   */
  readonly idempotencyKey: string;
  readonly tenantId: TenantId;
  readonly subscriptionId: string;
  readonly target: ChannelTarget;
  readonly notification: Notification;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

/**
 * How one attempt went. `retryable: false` ends the delivery (a 4xx other than 408 and
 * 429, a 410 Gone, a target refused as private); a retryable failure is tried again later,
 * after `retryAfterMs` when the receiver said so (Retry-After).
 */
export type SendOutcome =
  | { readonly ok: true; readonly status?: number }
  | {
      readonly ok: false;
      readonly retryable: boolean;
      readonly error: string;
      readonly status?: number;
      readonly retryAfterMs?: number;
      /** The receiver is gone for good (a 410, Slack's archived channel): the dispatcher may stop its subscription. */
      readonly gone?: true;
    };

/** A way out: renders a notification in its own shape and sends it once. Never throws: it answers a SendOutcome. */
export interface Channel {
  readonly kind: ChannelKind;
  /** `signal` aborts the attempt (the dispatcher's per-attempt timeout, or shutdown). */
  send(delivery: Delivery, signal: AbortSignal): Promise<SendOutcome>;
}

/** A delivery handed to a channel of another kind: the dispatcher's mistake, never right on a retry. */
export function wrongTarget(target: ChannelTarget, channel: ChannelKind): SendOutcome {
  return {
    ok: false,
    retryable: false,
    error: `a ${target.kind} target cannot be sent by the ${channel} channel`,
  };
}
