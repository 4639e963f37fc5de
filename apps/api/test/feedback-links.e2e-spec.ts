import { FEEDBACK_LINK_TTL_MS, FeedbackLinkSigner } from '@seismo/alerting';
import { parseTenantId } from '@seismo/storage';
import { startReceiver } from '../../../libs/alerting/test/receiver';
import { eventually, startTestServer, type TestServer, spikySeries } from './embedded-server.harness';

const ADMIN = 'e2e-admin-token-0123456789';
const MINUTE = 60_000;
/** The server's own address is known only once it listens: links are made under this and moved onto it. */
const PUBLIC_URL = 'http://127.0.0.1/seismo';

interface WebhookBody {
  state: string;
  anomaly_ids: string[];
  links: { series?: string; feedback?: { true_positive: string; false_positive: string; expected: string } };
}

/** What a link's token says: its payload is base64url JSON before the signature. */
function claimOf(link: string): { t: string; a: string; l: string } {
  const token = link.slice(link.lastIndexOf('/') + 1);
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')) as {
    t: string;
    a: string;
    l: string;
  };
}

describe('feedback links in alerts: confirm page on GET, label on POST, no key (real receiver)', () => {
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  const call = async <T>(method: string, path: string, key: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as T };
  };

  /** The link as the server answers it: its path under the public URL, on the server's own origin. */
  const onServer = (link: string, kind = 'feedback'): string => {
    expect(link.startsWith(`${PUBLIC_URL}/v1/${kind}/`)).toBe(true);
    return `${server.url}${link.slice(PUBLIC_URL.length)}`;
  };

  /** What a browser sends for a form with no fields. */
  const confirmForm = (url: string, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: '',
    });

  beforeAll(async () => {
    receiver = await startReceiver((_, __, response) => response.writeHead(204).end());
    server = await startTestServer({
      SEISMO_ADMIN_TOKEN: ADMIN,
      SEISMO_PARTITIONS: '2',
      SEISMO_ALLOW_PRIVATE_TARGETS: 'true',
      SEISMO_ALERT_TICK_MS: '200',
      SEISMO_PUBLIC_URL: `${PUBLIC_URL}/`,
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await receiver?.close();
  }, 60_000);

  it('sends links whose GET only asks, whose POST records the label as feedback-link, and refuses a tampered one', async () => {
    const created = await call<{ api_key: string }>('POST', '/v1/tenants', ADMIN, { name: 'acme-links' });
    expect(created.status).toBe(201);
    const key = created.body.api_key;
    const subscribed = await call('POST', '/v1/subscriptions', key, {
      channel: 'webhook',
      target: { url: `${receiver.url}/hooks/acme` },
      filter: { series: 'latency*' },
    });
    expect(subscribed.status).toBe(201);
    const pushed = await fetch(`${server.url}/v1/points`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ points: spikySeries('latency', { host: 'a' }, Date.now() - 600 * MINUTE) }),
    });
    expect(pushed.status).toBe(202);

    const [request] = await eventually(
      async () => (receiver.received.length > 0 ? receiver.received : undefined),
      'the webhook received a notification',
    );
    const alert = JSON.parse(request.body.toString()) as WebhookBody;
    expect(alert.state).toBe('opened');
    expect(alert.links.series).toEqual(expect.stringContaining(`${PUBLIC_URL}/v1/charts/`));
    const links = alert.links.feedback!;
    expect(links).toEqual({
      true_positive: expect.any(String),
      false_positive: expect.any(String),
      expected: expect.any(String),
    });
    const claim = claimOf(links.false_positive);
    expect(claim.l).toBe('false_positive');
    expect(alert.anomaly_ids).toContain(claim.a);
    const anomalyId = claim.a;
    const label = () => call<Record<string, unknown>>('GET', `/v1/anomalies/${anomalyId}/feedback`, key);

    // GET: the page, with no key; nothing recorded (a mail scanner's visit).
    const page = await fetch(onServer(links.false_positive));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    expect(html).toContain(`<code>${anomalyId}</code>`);
    expect(html).toContain('latency{host=&quot;a&quot;}');
    expect(html).toContain('<code>false_positive</code>');
    expect(html).toContain('<form method="post"><button type="submit">Confirm</button></form>');
    expect((await fetch(onServer(links.false_positive), { method: 'HEAD' })).status).toBe(200);
    expect((await label()).status).toBe(404);

    // POST, as the Confirm button sends it: recorded, audited, and read back with the tenant's key.
    const confirmed = await confirmForm(onServer(links.false_positive));
    expect(confirmed.status).toBe(201);
    expect(confirmed.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await confirmed.text()).toContain('Recorded: false alarm');
    const recorded = await label();
    expect(recorded).toMatchObject({
      status: 200,
      body: {
        anomaly_id: anomalyId,
        series: 'latency{host="a"}',
        label: 'false_positive',
        actor: 'feedback-link',
      },
    });
    const audit = await call<{ entries: Array<{ action: string; actor: { type: string }; target: string }> }>(
      'GET',
      '/v1/audit?action=anomaly.feedback',
      key,
    );
    expect(audit.body.entries).toEqual([
      expect.objectContaining({
        action: 'anomaly.feedback',
        actor: { type: 'feedback-link' },
        target: anomalyId,
      }),
    ]);

    // A client that asks for JSON gets the label as POST /v1/anomalies/{id}/feedback answers it;
    // the token's label is the one recorded, whatever a body says.
    const asJson = await fetch(onServer(links.expected), {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'label=true_positive',
    });
    expect(asJson.status).toBe(201);
    expect(await asJson.json()).toMatchObject({
      anomaly_id: anomalyId,
      label: 'expected',
      actor: 'feedback-link',
    });
    expect((await label()).body).toMatchObject({ label: 'expected' });

    // Tampered: one character of the signature changed (not the last, whose low bits base64 ignores).
    // 401, as a page or as JSON, and nothing recorded.
    const genuine = onServer(links.true_positive);
    const at = genuine.length - 10;
    const tampered = `${genuine.slice(0, at)}${genuine[at] === 'A' ? 'B' : 'A'}${genuine.slice(at + 1)}`;
    const refusedPage = await fetch(tampered);
    expect(refusedPage.status).toBe(401);
    expect(await refusedPage.text()).toContain('the feedback link is not valid');
    expect((await confirmForm(tampered)).status).toBe(401);
    const refusedJson = await confirmForm(tampered, { accept: 'application/json' });
    expect(refusedJson.status).toBe(401);
    expect(await refusedJson.json()).toMatchObject({ statusCode: 401, code: 'INVALID_FEEDBACK_TOKEN' });
    expect((await label()).body).toMatchObject({ label: 'expected' });
  }, 60_000);

  it("sends a chart link that shows the series around the alert's anomaly, with no key, and refuses a tampered one", async () => {
    const created = await call<{ api_key: string }>('POST', '/v1/tenants', ADMIN, { name: 'acme-charts' });
    const key = created.body.api_key;
    await call('POST', '/v1/subscriptions', key, {
      channel: 'webhook',
      target: { url: `${receiver.url}/hooks/charts` },
      filter: { series: 'queue*' },
    });
    const start = Date.now() - 600 * MINUTE;
    const pushed = await fetch(`${server.url}/v1/points`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ points: spikySeries('queue', { host: 'b' }, start, 900) }),
    });
    expect(pushed.status).toBe(202);
    const alert = await eventually(async () => {
      const bodies = receiver.received.map(
        (r) => JSON.parse(r.body.toString()) as WebhookBody & { title: string },
      );
      return bodies.find((b) => b.title.startsWith('queue{host="b"}'));
    }, 'the webhook received the queue alert');
    const chart = onServer(alert.links.series!, 'charts');

    const page = await fetch(chart);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    expect(html).toContain('<code>queue{host=&quot;b&quot;}</code>');
    expect(html).toMatch(/<svg [^>]*viewBox="0 0 720 240"/);
    expect(html).toContain('<circle'); // the spike, in red
    expect(html).toMatch(/\d+ points, [1-9]\d* anomalous \(red\)/);

    // The same data as JSON: the window around the anomaly, its points with their flags.
    const data = await fetch(chart, { headers: { accept: 'application/json' } });
    expect(data.status).toBe(200);
    const body = (await data.json()) as {
      series: string;
      at: string;
      from: string;
      to: string;
      resolution: string;
      points: Array<{ ts: number; value: number; flags: number }>;
    };
    expect(body.series).toBe('queue{host="b"}');
    expect(body.resolution).toBe('raw');
    expect(Date.parse(body.from)).toBe(Date.parse(body.at) - 6 * 60 * MINUTE);
    const spike = body.points.find((p) => p.value === 900);
    expect(spike).toBeDefined();
    expect(spike!.flags & 1).toBe(1);
    expect(body.points.every((p) => p.ts >= Date.parse(body.from) && p.ts <= Date.parse(body.to))).toBe(true);

    // Tampered, or a feedback link's token on the chart route: 401, as a page or as JSON.
    const at = chart.length - 10;
    const tampered = `${chart.slice(0, at)}${chart[at] === 'A' ? 'B' : 'A'}${chart.slice(at + 1)}`;
    const refused = await fetch(tampered);
    expect(refused.status).toBe(401);
    expect(await refused.text()).toContain('This chart link cannot be used');
    const refusedJson = await fetch(tampered, { headers: { accept: 'application/json' } });
    expect(await refusedJson.json()).toMatchObject({ statusCode: 401, code: 'INVALID_CHART_TOKEN' });
    const feedbackToken = alert.links.feedback!.expected.split('/').pop()!;
    expect((await fetch(`${server.url}/v1/charts/${feedbackToken}`)).status).toBe(401);
  }, 60_000);

  it('refuses a link past its 30 days with 410, and one whose anomaly does not exist with 404', async () => {
    const signer = new FeedbackLinkSigner(ADMIN);
    const created = await call<{ id: string }>('POST', '/v1/tenants', ADMIN, { name: 'globex-links' });
    const tenantId = parseTenantId(created.body.id);
    const link = (anomalyId: string, now = Date.now()) =>
      `${server.url}/v1/feedback/${signer.sign({ tenantId, anomalyId, label: 'false_positive' }, now)}`;

    const expired = link('an_old', Date.now() - FEEDBACK_LINK_TTL_MS - MINUTE);
    expect((await fetch(expired)).status).toBe(410);
    const expiredJson = await confirmForm(expired, { accept: 'application/json' });
    expect(expiredJson.status).toBe(410);
    expect(await expiredJson.json()).toMatchObject({ code: 'EXPIRED_FEEDBACK_TOKEN' });

    const missing = link('an_never');
    expect((await fetch(missing)).status).toBe(404);
    const missingJson = await confirmForm(missing, { accept: 'application/json' });
    expect(missingJson.status).toBe(404);
    expect(await missingJson.json()).toMatchObject({ code: 'UNKNOWN_ANOMALY' });
  });

  it('still refuses a form body on every other route', async () => {
    const response = await fetch(`${server.url}/v1/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'channel=webhook',
    });
    expect(response.status).toBe(415);
  });
});
