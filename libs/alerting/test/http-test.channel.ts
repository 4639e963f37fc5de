import { type Channel, type Delivery, type SendOutcome } from '../src/channel';

/**
 * A test-only webhook channel: POSTs the notification as JSON with the delivery's
 * idempotency key, and maps the answer as a webhook provider does (2xx sent; 410 gone;
 * 408, 429 and 5xx retryable, after Retry-After when given; any other 4xx final). The
 * real provider is written elsewhere; this one lets the dispatcher meet real sockets.
 */
export class HttpTestChannel implements Channel {
  readonly kind = 'webhook';

  async send(delivery: Delivery, signal: AbortSignal): Promise<SendOutcome> {
    if (delivery.target.kind !== 'webhook') {
      return { ok: false, retryable: false, error: `not a webhook target: ${delivery.target.kind}` };
    }
    let response: Response;
    try {
      response = await fetch(delivery.target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': delivery.idempotencyKey },
        body: JSON.stringify({ attempt: delivery.attempt, notification: delivery.notification }),
        signal,
      });
      await response.arrayBuffer();
    } catch (error) {
      return { ok: false, retryable: true, error: error instanceof Error ? error.message : String(error) };
    }
    const status = response.status;
    if (status >= 200 && status < 300) return { ok: true, status };
    const error = `HTTP ${status}`;
    if (status === 410) return { ok: false, retryable: false, gone: true, error, status };
    if (status === 408 || status === 429 || status >= 500) {
      const seconds = Number(response.headers.get('retry-after'));
      return {
        ok: false,
        retryable: true,
        error,
        status,
        ...(seconds > 0 ? { retryAfterMs: seconds * 1000 } : {}),
      };
    }
    return { ok: false, retryable: false, error, status };
  }
}
