import { verifyWebhookSignature } from '@seismo/alerting';
import { startReceiver } from '../../../libs/alerting/test/receiver';
import {
  callApi,
  eventually,
  startTestServer,
  type TestServer,
  spikySeries,
} from './embedded-server.harness';

const ADMIN = 'e2e-admin-token-0123456789';
const MINUTE = 60_000;

interface WebhookBody {
  id: string;
  incident_id: string;
  kind: string;
  state: string;
  title: string;
  idempotency_key: string;
  series: Array<{ series: string; score: number }>;
}

interface DeliveryBody {
  id: string;
  idempotency_key: string;
  subscription_id: string;
  channel: string;
  status: string;
  state: string;
  incident_id: string;
  attempts: number;
  sent_at: string | null;
}

describe('alerts from the embedded server: anomaly -> incident -> signed webhook (real receiver)', () => {
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  const call = <T>(method: string, path: string, key: string, body?: unknown) =>
    callApi<T>(server.url, method, path, key, body);

  const createTenant = async (name: string): Promise<string> => {
    const created = await call<{ api_key: string }>('POST', '/v1/tenants', ADMIN, { name });
    expect(created.status).toBe(201);
    return created.body.api_key;
  };

  beforeAll(async () => {
    receiver = await startReceiver((_, __, response) => response.writeHead(204).end());
    server = await startTestServer({
      SEISMO_ADMIN_TOKEN: ADMIN,
      SEISMO_PARTITIONS: '2',
      SEISMO_ALLOW_PRIVATE_TARGETS: 'true',
      SEISMO_ALERT_TICK_MS: '200',
      SEISMO_NO_DATA_AFTER_MS: '1000',
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await receiver?.close();
  }, 60_000);

  it("delivers one signed notification per incident to the tenant's subscription, and lists it as sent", async () => {
    const acme = await createTenant('acme-alerts');
    const globex = await createTenant('globex-alerts');
    const subscribed = await call<{ id: string; secret: string }>('POST', '/v1/subscriptions', acme, {
      channel: 'webhook',
      target: { url: `${receiver.url}/hooks/acme` },
      filter: { series: 'latency*' },
    });
    expect(subscribed.status).toBe(201);
    const { id: subscriptionId, secret } = subscribed.body;

    const start = Date.now() - 600 * MINUTE;
    for (const [key, points] of [
      [globex, spikySeries('latency', { host: 'a' }, start)],
      [acme, spikySeries('cpu', { host: 'a' }, start)],
      [acme, spikySeries('latency', { host: 'a' }, start)],
    ] as const) {
      const pushed = await fetch(`${server.url}/v1/points`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ points }),
      });
      expect(pushed.status).toBe(202);
    }

    const [request] = await eventually(
      async () => (receiver.received.length > 0 ? receiver.received : undefined),
      'the webhook received a notification',
    );
    expect(request.headers['idempotency-key']).toEqual(expect.any(String));
    expect(
      verifyWebhookSignature({
        secret,
        signatureHeader: request.headers['seismo-signature'] as string,
        timestampHeader: request.headers['seismo-timestamp'] as string,
        body: request.body,
      }),
    ).toBe(true);
    const notification = JSON.parse(request.body.toString()) as WebhookBody;
    expect(notification).toMatchObject({
      state: 'opened',
      idempotency_key: request.headers['idempotency-key'],
    });
    // acme's cpu and latency of host a are one incident, which the latency subscription hears
    // of as opened once its series is in it; globex's latency is never in it.
    const series = notification.series.map((s) => s.series);
    expect(series).toContain('latency{host="a"}');
    expect(series.every((s) => s === 'latency{host="a"}' || s === 'cpu{host="a"}')).toBe(true);
    expect(notification.series.every((s) => s.score >= 0.5)).toBe(true);

    const sent = await eventually(async () => {
      const listed = await call<{ deliveries: DeliveryBody[] }>('GET', '/v1/deliveries?status=sent', acme);
      return listed.body.deliveries.length > 0 ? listed.body.deliveries : undefined;
    }, 'the delivery is listed as sent');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      subscription_id: subscriptionId,
      channel: 'webhook',
      state: 'opened',
      incident_id: notification.incident_id,
      idempotency_key: notification.idempotency_key,
      attempts: 1,
      sent_at: expect.any(String),
    });
    // One incident, one notification: the spike's neighbours folded into it.
    expect(receiver.received).toHaveLength(1);
    const theirs = await call<{ deliveries: DeliveryBody[] }>('GET', '/v1/deliveries', globex);
    expect(theirs.body.deliveries).toEqual([]);
  }, 60_000);

  it('opens a no-data incident when a series that reported regularly goes silent, and resolves it when it reports again', async () => {
    const key = await createTenant('quiet-alerts');
    const subscribed = await call<{ id: string }>('POST', '/v1/subscriptions', key, {
      channel: 'webhook',
      target: { url: `${receiver.url}/hooks/quiet` },
      filter: { series: 'heartbeat*' },
    });
    expect(subscribed.status).toBe(201);
    const push = async (value: number) => {
      const pushed = await fetch(`${server.url}/v1/points`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          points: [{ series: 'heartbeat', labels: { host: 'h' }, ts: Date.now(), value }],
        }),
      });
      expect(pushed.status).toBe(202);
    };
    const heard = (state: string) =>
      eventually(async () => {
        const bodies = receiver.received.map((r) => JSON.parse(r.body.toString()) as WebhookBody);
        return bodies.find((b) => b.kind === 'no_data' && b.state === state);
      }, `the webhook heard of the silence as ${state}`);

    for (let i = 0; i < 12; i++) {
      await push(i);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const opened = await heard('opened');
    expect(opened).toMatchObject({
      title: 'heartbeat{host="h"} stopped reporting',
      series: [expect.objectContaining({ series: 'heartbeat{host="h"}' })],
    });

    await push(12);
    const resolved = await heard('resolved');
    expect(resolved).toMatchObject({
      incident_id: opened.incident_id,
      title: 'Resolved: heartbeat{host="h"} stopped reporting',
    });
  }, 60_000);

  it('sends a dead delivery again on POST /v1/deliveries/{id}/retry, once the receiver takes it', async () => {
    let accept = false;
    const picky = await startReceiver((_, __, response) => response.writeHead(accept ? 204 : 400).end());
    try {
      const key = await createTenant('retry-alerts');
      const subscribed = await call<{ id: string }>('POST', '/v1/subscriptions', key, {
        channel: 'webhook',
        target: { url: `${picky.url}/hooks/retry` },
      });
      expect(subscribed.status).toBe(201);
      const pushed = await fetch(`${server.url}/v1/points`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          points: spikySeries('queue_depth', { host: 'r' }, Date.now() - 600 * MINUTE),
        }),
      });
      expect(pushed.status).toBe(202);
      // A 400 is final: the delivery is dead after its one attempt.
      const [dead] = await eventually(async () => {
        const listed = await call<{ deliveries: DeliveryBody[] }>('GET', '/v1/deliveries?status=dead', key);
        return listed.body.deliveries.length > 0 ? listed.body.deliveries : undefined;
      }, 'the delivery to be dead');
      expect(dead.attempts).toBe(1);

      const notDead = await call<{ error: string }>('POST', `/v1/deliveries/${dead.id}x/retry`, key);
      expect(notDead.status).toBe(404);
      accept = true;
      const retried = await call<DeliveryBody>('POST', `/v1/deliveries/${dead.id}/retry`, key);
      expect(retried.status).toBe(200);
      expect(retried.body).toMatchObject({ id: dead.id, status: 'pending', attempts: 0 });
      const sent = await eventually(async () => {
        const listed = await call<{ deliveries: DeliveryBody[] }>('GET', '/v1/deliveries?status=sent', key);
        return listed.body.deliveries.find((d) => d.id === dead.id);
      }, 'the retried delivery to be sent');
      expect(sent).toMatchObject({ attempts: 1, idempotency_key: dead.idempotency_key });
      expect(picky.received.map((r) => r.headers['idempotency-key'])).toEqual([
        dead.idempotency_key,
        dead.idempotency_key,
      ]);
      const again = await call<{ error: string }>('POST', `/v1/deliveries/${dead.id}/retry`, key);
      expect(again.status).toBe(409);
      expect(again.body.error).toMatch(/sent/);
    } finally {
      await picky.close();
    }
  }, 60_000);

  it('refuses a bad filter of GET /v1/deliveries with 400 naming it', async () => {
    const key = await createTenant('picky-alerts');
    const bad = await call<{ error: string }>('GET', '/v1/deliveries?status=lost', key);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/status/);
    const unknown = await call<{ error: string }>('GET', '/v1/deliveries?colour=red', key);
    expect(unknown.status).toBe(400);
  });
});
