import Stripe from 'stripe';
import { setTimeout as sleep } from 'node:timers/promises';
import { BILLED_METERS, type BilledMeter, CUSTOMER_PAYLOAD_KEY, VALUE_PAYLOAD_KEY } from './billed-meter';
import { BillingException, BillingExceptionCode } from './billing.exception';

export interface StripeGatewayOptions {
  readonly apiKey: string;
  /**
   * Where the Stripe API is, e.g. `http://127.0.0.1:12111` for stripe-mock; absent:
   * api.stripe.com. stripe-node sends every call there, meter events included.
   */
  readonly apiBase?: string;
  /** Attempts per call when Stripe answers 429 or 5xx or does not answer (default 5). */
  readonly attempts?: number;
  /** First backoff delay; doubled at each attempt, with jitter (default 500 ms). */
  readonly backoffMs?: number;
  /** Per-request time limit (default 20 s). */
  readonly timeoutMs?: number;
}

/** A meter event to send: the values of one send-log row. */
export interface MeterEvent {
  readonly eventName: string;
  readonly identifier: string;
  readonly customerId: string;
  readonly value: number;
  /** Epoch milliseconds; Stripe takes seconds. */
  readonly timestamp: number;
}

/** What Stripe made of a meter event. */
export type MeterEventOutcome =
  /** Taken now. */
  | 'delivered'
  /** Stripe already had the identifier: taken by an earlier attempt, so delivered too. */
  | 'duplicate'
  /** Stripe no longer takes events for that instant (outside its 35-day window). */
  | 'too_old';

/**
 * The billing worker's only door to Stripe: meters created if missing, meter events sent
 * with their deterministic identifier. Retries 429, 5xx and network failures here, with
 * exponential backoff and jitter (stripe-node's own retries are off, so the policy and
 * the count are visible in one place); anything else is an answer, not a retry.
 */
export class StripeMeterGateway {
  private readonly stripe: Stripe;
  private readonly attempts: number;
  private readonly backoffMs: number;

  constructor(options: StripeGatewayOptions) {
    this.attempts = options.attempts ?? 5;
    this.backoffMs = options.backoffMs ?? 500;
    if (!Number.isInteger(this.attempts) || this.attempts < 1) {
      throw new RangeError(`attempts must be a positive integer, got ${this.attempts}`);
    }
    const base = options.apiBase ? new URL(options.apiBase) : undefined;
    this.stripe = new Stripe(options.apiKey, {
      maxNetworkRetries: 0,
      timeout: options.timeoutMs ?? 20_000,
      ...(base
        ? {
            host: base.hostname,
            protocol: base.protocol === 'http:' ? 'http' : 'https',
            port: base.port || (base.protocol === 'http:' ? 80 : 443),
          }
        : {}),
    });
  }

  /**
   * Creates the Stripe meters of BILLED_METERS that the account lacks (matched by event
   * name among active meters): sum per customer, the customer and the value read from the
   * payload keys the events use.
   */
  async ensureMeters(meters: readonly BilledMeter[] = BILLED_METERS): Promise<string[]> {
    const existing = new Set<string>();
    await this.call('listing the Stripe meters', async () => {
      existing.clear();
      for await (const meter of this.stripe.billing.meters.list({ status: 'active', limit: 100 })) {
        existing.add(meter.event_name);
      }
    });
    const created: string[] = [];
    for (const meter of meters) {
      if (existing.has(meter.eventName)) continue;
      await this.call(`creating the Stripe meter ${meter.eventName}`, () =>
        this.stripe.billing.meters.create({
          display_name: meter.displayName,
          event_name: meter.eventName,
          default_aggregation: { formula: 'sum' },
          customer_mapping: { type: 'by_id', event_payload_key: CUSTOMER_PAYLOAD_KEY },
          value_settings: { event_payload_key: VALUE_PAYLOAD_KEY },
        }),
      );
      created.push(meter.eventName);
    }
    return created;
  }

  async send(event: MeterEvent): Promise<MeterEventOutcome> {
    try {
      await this.call(`sending meter event ${event.identifier}`, () =>
        this.stripe.billing.meterEvents.create({
          event_name: event.eventName,
          identifier: event.identifier,
          timestamp: Math.floor(event.timestamp / 1000),
          payload: { [CUSTOMER_PAYLOAD_KEY]: event.customerId, [VALUE_PAYLOAD_KEY]: String(event.value) },
        }),
      );
      return 'delivered';
    } catch (error) {
      if (!(error instanceof BillingException) || error.code !== BillingExceptionCode.STRIPE_REFUSED)
        throw error;
      const cause = error.cause as Partial<StripeApiError>;
      if (isDuplicateIdentifier(cause)) return 'duplicate';
      if (cause.code === 'timestamp_too_far_in_past') return 'too_old';
      throw error;
    }
  }

  /** Runs one Stripe call, retrying what Stripe says may be retried. */
  private async call<T>(what: string, request: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request();
      } catch (cause) {
        const error = cause as Partial<StripeApiError>;
        const retriable =
          error.statusCode === undefined || error.statusCode === 429 || error.statusCode >= 500;
        const detail = `${what}: ${error.statusCode ?? 'no answer'} ${error.message ?? String(cause)}`;
        if (!retriable) {
          throw new BillingException(BillingExceptionCode.STRIPE_REFUSED, detail, { cause });
        }
        if (attempt >= this.attempts) {
          throw new BillingException(
            BillingExceptionCode.STRIPE_UNAVAILABLE,
            `${detail} (after ${attempt} attempts)`,
            { cause },
          );
        }
        const delay = this.backoffMs * 2 ** (attempt - 1);
        await sleep(delay / 2 + Math.random() * (delay / 2));
      }
    }
  }
}

interface StripeApiError {
  statusCode: number;
  code: string;
  message: string;
}

/**
 * Stripe's answer to an identifier it already has: HTTP 400 invalid_request_error, "An
 * event already exists with identifier X." (seen in use, not documented word for word,
 * hence the loose match; a 409 would mean the same).
 */
function isDuplicateIdentifier(error: Partial<StripeApiError>): boolean {
  return (
    (error.statusCode === 400 || error.statusCode === 409) &&
    /already exists with identifier|duplicate.*identifier/i.test(error.message ?? '')
  );
}
