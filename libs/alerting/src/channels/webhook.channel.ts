import { createHmac, timingSafeEqual } from 'node:crypto';
import { type AnomalyTriageJson, triageJson } from '@seismo/llm/verdict';
import { type Channel, type Delivery, type SendOutcome, wrongTarget } from '../channel';
import { type Notification } from '../notification';
import { type OutboundHttp } from './outbound-http';

export const WEBHOOK_USER_AGENT = 'Seismo-Webhook/1';
/** How old a signed request may be before a receiver should refuse it (replays). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** The webhook's JSON body, version 1: snake_case, times as RFC 3339. */
export interface WebhookBody {
  readonly v: 1;
  readonly id: string;
  readonly idempotency_key: string;
  readonly delivery_id: string;
  readonly attempt: number;
  readonly incident_id: string;
  readonly kind: Notification['kind'];
  readonly state: Notification['state'];
  readonly severity: Notification['severity'];
  readonly title: string;
  readonly summary: string;
  readonly opened_at: string;
  readonly at: string;
  readonly resolved_at?: string;
  readonly series: ReadonlyArray<{
    readonly series: string;
    readonly metric: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly ts: string;
    readonly value: number;
    readonly score: number;
    /** LLM triage of the point (GET /v1/anomalies' `explanation`); absent without triage. */
    readonly explanation?: AnomalyTriageJson;
  }>;
  readonly anomaly_ids: readonly string[];
  readonly links: {
    readonly series?: string;
    readonly feedback?: {
      readonly true_positive: string;
      readonly false_positive: string;
      readonly expected: string;
    };
  };
}

export function webhookBodyOf(delivery: Delivery): WebhookBody {
  const n = delivery.notification;
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    v: 1,
    id: n.id,
    idempotency_key: delivery.idempotencyKey,
    delivery_id: delivery.id,
    attempt: delivery.attempt,
    incident_id: n.incidentId,
    kind: n.kind,
    state: n.state,
    severity: n.severity,
    title: n.title,
    summary: n.summary,
    opened_at: iso(n.openedAt),
    at: iso(n.at),
    ...(n.resolvedAt !== undefined ? { resolved_at: iso(n.resolvedAt) } : {}),
    series: n.series.map((s) => ({
      series: s.series,
      metric: s.metric,
      labels: s.labels,
      ts: iso(s.ts),
      value: s.value,
      score: s.score,
      ...(s.triage ? { explanation: triageJson(s.triage) } : {}),
    })),
    anomaly_ids: n.anomalyIds,
    links: {
      ...(n.links.series !== undefined ? { series: n.links.series } : {}),
      ...(n.links.feedback !== undefined
        ? {
            feedback: {
              true_positive: n.links.feedback.truePositive,
              false_positive: n.links.feedback.falsePositive,
              expected: n.links.feedback.expected,
            },
          }
        : {}),
    },
  };
}

/** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`: the secret is the whole `whsec_...` text. */
export function signWebhook(secret: string, timestamp: number, body: string | Buffer): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

export interface WebhookVerification {
  readonly secret: string;
  /** Seismo-Signature: one or several `v1=<hex>`, comma separated (several while a secret rotates). */
  readonly signatureHeader: string | undefined;
  /** Seismo-Timestamp: unix seconds. */
  readonly timestampHeader: string | undefined;
  /** The raw body as received, before any JSON parsing. */
  readonly body: string | Buffer;
  readonly toleranceSeconds?: number;
  /** Epoch milliseconds (default now). */
  readonly now?: number;
}

/** Whether a request is Seismo's: a signature matches, in constant time, and the timestamp is recent. */
export function verifyWebhookSignature(check: WebhookVerification): boolean {
  const { secret, signatureHeader, timestampHeader, body } = check;
  if (signatureHeader === undefined || timestampHeader === undefined || !/^\d{1,12}$/.test(timestampHeader)) {
    return false;
  }
  const timestamp = Number(timestampHeader);
  const now = (check.now ?? Date.now()) / 1000;
  if (Math.abs(now - timestamp) > (check.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS)) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body).slice('v1='.length), 'hex');
  return signatureHeader
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith('v1='))
    .some((entry) => {
      const given = Buffer.from(entry.slice('v1='.length), 'hex');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}

/**
 * POSTs the notification as signed JSON to the subscriber's URL. The signature covers the
 * timestamp, so a captured request cannot be replayed after the tolerance; the
 * Idempotency-Key, the same on every attempt, lets the receiver drop a repeat.
 */
export class WebhookChannel implements Channel {
  readonly kind = 'webhook' as const;

  constructor(
    private readonly http: OutboundHttp,
    private readonly clock: () => number = Date.now,
  ) {}

  send(delivery: Delivery, signal: AbortSignal): Promise<SendOutcome> {
    const { target } = delivery;
    if (target.kind !== 'webhook') return Promise.resolve(wrongTarget(target, this.kind));
    const body = JSON.stringify(webhookBodyOf(delivery));
    const timestamp = Math.floor(this.clock() / 1000);
    return this.http.send({
      url: target.url,
      body,
      signal,
      headers: {
        'content-type': 'application/json',
        'user-agent': WEBHOOK_USER_AGENT,
        'idempotency-key': delivery.idempotencyKey,
        'seismo-delivery': delivery.id,
        'seismo-timestamp': String(timestamp),
        'seismo-signature': signWebhook(target.secret, timestamp, body),
      },
    });
  }
}
