import { createHash } from 'node:crypto';
import { HOUR_MS, type TenantId, type UsageMeter } from '@seismo/storage';

/** A usage meter sent to Stripe, and the Stripe meter (event name) it feeds. */
export interface BilledMeter {
  readonly meter: UsageMeter;
  /** Stripe's `event_name`: what meter events and the Stripe meter share. */
  readonly eventName: string;
  readonly displayName: string;
}

/**
 * The meters billed, each summed per hour into one Stripe meter event. `points_scored` and
 * `points_rejected` are not billed (they are shown in GET /v1/usage). `active_series` is
 * billed as series-hours: each hour's distinct series, summed over the billing period by
 * Stripe's `sum` formula (Stripe meters have no distinct count).
 */
export const BILLED_METERS: readonly BilledMeter[] = [
  { meter: 'points_ingested', eventName: 'seismo_points_ingested', displayName: 'Seismo points ingested' },
  { meter: 'active_series', eventName: 'seismo_series_hours', displayName: 'Seismo active series-hours' },
  { meter: 'anomalies', eventName: 'seismo_anomalies', displayName: 'Seismo anomalies' },
  { meter: 'alerts_delivered', eventName: 'seismo_alerts_delivered', displayName: 'Seismo alerts delivered' },
  { meter: 'llm_tokens_in', eventName: 'seismo_llm_tokens_in', displayName: 'Seismo LLM input tokens' },
  { meter: 'llm_tokens_out', eventName: 'seismo_llm_tokens_out', displayName: 'Seismo LLM output tokens' },
];

/** The payload key of meter events that names the Stripe customer, and the one holding the value. */
export const CUSTOMER_PAYLOAD_KEY = 'stripe_customer_id';
export const VALUE_PAYLOAD_KEY = 'value';

/** Longest identifier Stripe takes for a meter event. */
const MAX_IDENTIFIER = 100;

/** `2031-03-04T10` for the hour starting 2031-03-04 10:00 UTC. */
export function hourLabel(hour: number): string {
  if (!Number.isInteger(hour) || hour % HOUR_MS !== 0) {
    throw new RangeError(`hour must be epoch milliseconds at the start of an hour, got ${hour}`);
  }
  return new Date(hour).toISOString().slice(0, 13);
}

/**
 * The meter event identifier of one tenant, meter, hour and sequence number: the same
 * inputs always give the same identifier, so a retry or a restart that sends an event
 * again sends it under the identifier Stripe already has, and Stripe refuses the
 * duplicate instead of billing it twice. `seq` 0 is the hour's event; later ones carry
 * what was counted after it was sent.
 *
 * Readable (`seismo.<tenant>.<meter>.<hour>.<seq>`) while that fits Stripe's 100
 * characters; with a tenant id too long for it, the tenant part is a hash of the id.
 */
export function meterEventIdentifier(tenant: TenantId, meter: UsageMeter, hour: number, seq: number): string {
  if (!Number.isInteger(seq) || seq < 0)
    throw new RangeError(`seq must be a non-negative integer, got ${seq}`);
  const tail = `${meter}.${hourLabel(hour)}.${seq}`;
  const readable = `seismo.${tenant}.${tail}`;
  if (readable.length <= MAX_IDENTIFIER) return readable;
  return `seismo.h${createHash('sha256').update(tenant).digest('hex').slice(0, 24)}.${tail}`;
}
