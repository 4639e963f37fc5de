import { startStripeMock, type StripeMock, StripeProxy } from '@seismo/billing/testing';
import { eventually, startTestServer, type TestServer } from './embedded-server.harness';

jest.setTimeout(60_000);

const ADMIN = 'e2e-admin-token-billing-0123456789';

/**
 * The billing worker as `seismo serve` runs it: on with SEISMO_STRIPE_API_KEY, against
 * stripe-mock (behind a recording proxy), off the request path. What it sends for closed
 * hours is tested in libs/billing; here, that the server runs it and reports it.
 */
describe('billing in the server (real embedded server, stripe-mock)', () => {
  let mock: StripeMock;
  let proxy: StripeProxy;
  let server: TestServer | undefined;

  beforeAll(async () => {
    mock = await startStripeMock();
    proxy = await StripeProxy.start({ upstream: mock.url });
  });
  afterAll(async () => {
    await server?.close();
    await proxy?.stop();
    await mock?.stop();
  });

  it('runs the billing worker when SEISMO_STRIPE_API_KEY is set: meters created, runs reported in /metrics', async () => {
    server = await startTestServer({
      SEISMO_ADMIN_TOKEN: ADMIN,
      SEISMO_STRIPE_API_KEY: 'sk_test_serve',
      SEISMO_STRIPE_API_BASE: proxy.url,
      SEISMO_BILLING_INTERVAL_MS: '200',
    });
    await eventually(
      async () =>
        proxy.requests.filter((r) => r.path === '/v1/billing/meters' && r.method === 'POST').length >= 6
          ? true
          : undefined,
      'the Stripe meters to be created',
    );
    const lastRun = await eventually(async () => {
      const text = await (await fetch(`${server!.url}/metrics`)).text();
      const value = Number(/^seismo_billing_last_success_timestamp_seconds (\S+)$/m.exec(text)?.[1] ?? 0);
      return value > 0 ? value : undefined;
    }, 'a billing run to complete');
    expect(lastRun * 1000).toBeGreaterThan(Date.now() - 60_000);
    // Ingest never waits on Stripe: a push is answered while the worker runs.
    const created = await fetch(`${server.url}/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'billed' }),
    });
    const { api_key: key } = (await created.json()) as { api_key: string };
    const pushed = await fetch(`${server.url}/v1/points`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ points: [{ series: 'cpu', ts: Date.now(), value: 1 }] }),
    });
    expect(pushed.status).toBe(202);
    await server.close();
    server = undefined;
  });

  it('calls Stripe not at all without SEISMO_STRIPE_API_KEY', async () => {
    const before = proxy.requests.length;
    server = await startTestServer({ SEISMO_ADMIN_TOKEN: ADMIN, SEISMO_BILLING_INTERVAL_MS: '200' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(proxy.requests.length).toBe(before);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/^seismo_billing_last_success_timestamp_seconds 0$/m);
  });
});
