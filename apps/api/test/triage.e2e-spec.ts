import { FAKE_VERDICT, FakeLlmServer, type FakeLlmReply, type FakeLlmRequest } from '@seismo/llm/testing';
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
  kind: string;
  severity: string;
  summary: string;
  series: Array<{ series: string; explanation?: Record<string, unknown> }>;
}

interface AnomalyBody {
  id: string;
  series: string;
  explanation?: Record<string, unknown>;
}

const EXPECTED_VERDICT = {
  verdict: 'expected',
  severity: 'info',
  explanation: 'The nightly batch job runs at this hour.',
  likely_cause: 'batch job',
  confidence: 0.9,
};
const ERROR_RATE_PROFILE = { kind: 'error_rate', direction: 'up', seasonality: 'none', unit: '%' };
const OTHER_PROFILE = { kind: 'other', direction: 'both', seasonality: 'daily', unit: '' };

/** What the fake LLM answers: a profile for profiling calls, a verdict by series for triage calls. */
function scripted(request: FakeLlmRequest): FakeLlmReply {
  const body = JSON.stringify(request.body);
  if (isProfiling(request)) {
    return { verdict: body.includes('errors_rate') ? ERROR_RATE_PROFILE : OTHER_PROFILE };
  }
  if (body.includes('flaky_')) return { status: 500 };
  if (body.includes('nightly_batch')) return { verdict: EXPECTED_VERDICT };
  return { verdict: FAKE_VERDICT };
}

function isProfiling(request: FakeLlmRequest): boolean {
  const body = request.body as { response_format?: { json_schema?: { name?: string } } };
  return body.response_format?.json_schema?.name === 'series_profile';
}

describe('LLM triage in the embedded server (a loopback LLM speaking the OpenAI shape)', () => {
  let server: TestServer;
  let llm: FakeLlmServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  const call = <T>(method: string, path: string, key: string, body?: unknown) =>
    callApi<T>(server.url, method, path, key, body);

  /** A tenant, its LLM settings (none: triage stays off), and a webhook on all its series. */
  const tenant = async (name: string, llmSettings?: Record<string, unknown>): Promise<string> => {
    const created = await call<{ id: string; api_key: string }>('POST', '/v1/tenants', ADMIN, { name });
    expect(created.status).toBe(201);
    if (llmSettings) {
      const patched = await call('PATCH', `/v1/tenants/${created.body.id}`, ADMIN, llmSettings);
      expect(patched.status).toBe(200);
    }
    const subscribed = await call('POST', '/v1/subscriptions', created.body.api_key, {
      channel: 'webhook',
      target: { url: `${receiver.url}/hooks/${name}` },
    });
    expect(subscribed.status).toBe(201);
    return created.body.api_key;
  };

  const push = async (key: string, points: unknown[]) => {
    const pushed = await fetch(`${server.url}/v1/points`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ points }),
    });
    expect(pushed.status).toBe(202);
  };

  const alertsOf = (metric: string): WebhookBody[] =>
    receiver.received
      .map((r) => JSON.parse(r.body.toString()) as WebhookBody)
      .filter((b) => b.kind === 'anomaly' && b.series.some((s) => s.series.startsWith(metric)));

  const triagedAnomalies = (key: string, metric: string) =>
    eventually(async () => {
      const listed = await call<{ anomalies: AnomalyBody[] }>('GET', '/v1/anomalies?limit=1000', key);
      const ours = listed.body.anomalies.filter((a) => a.series.startsWith(metric));
      return ours.length > 0 && ours.every((a) => a.explanation !== undefined) ? ours : undefined;
    }, `the anomalies of ${metric} carry their triage`);

  beforeAll(async () => {
    llm = await FakeLlmServer.start({ defaultReply: scripted });
    receiver = await startReceiver((_, __, response) => response.writeHead(204).end());
    server = await startTestServer({
      SEISMO_ADMIN_TOKEN: ADMIN,
      SEISMO_PARTITIONS: '2',
      SEISMO_ALLOW_PRIVATE_TARGETS: 'true',
      SEISMO_ALERT_TICK_MS: '200',
      SEISMO_LLM_PROVIDER: 'openai-compatible',
      SEISMO_LLM_BASE_URL: llm.openAiBaseUrl,
      SEISMO_LLM_MODEL: 'fake-model',
      SEISMO_LLM_PRICE_IN: '1',
      SEISMO_LLM_PRICE_OUT: '2',
      SEISMO_LLM_TIMEOUT_MS: '2000',
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await receiver?.close();
    await llm?.close();
  }, 60_000);

  it('asks nothing for a tenant that did not opt in', async () => {
    const key = await tenant('no-llm');
    await push(key, spikySeries('quiet_cpu', { host: 'a' }, Date.now() - 600 * MINUTE));
    await eventually(async () => (alertsOf('quiet_cpu').length > 0 ? true : undefined), 'its alert');
    expect(alertsOf('quiet_cpu')[0].series[0].explanation).toBeUndefined();
    const listed = await call<{ anomalies: AnomalyBody[] }>('GET', '/v1/anomalies', key);
    expect(listed.body.anomalies.length).toBeGreaterThan(0);
    expect(listed.body.anomalies.every((a) => a.explanation === undefined)).toBe(true);
    expect(llm.requests.some((r) => JSON.stringify(r.body).includes('quiet_cpu'))).toBe(false);
  }, 60_000);

  it('stores the verdict with the anomaly, shows it in the alert, meters its tokens, and never sends a redacted label', async () => {
    const key = await tenant('triaged', { llm_triage: true, llm: { redact_labels: ['customer*'] } });
    await push(
      key,
      spikySeries(
        'checkout_latency',
        { host: 'web-1', customer_email: 'ceo@acme.example' },
        Date.now() - 600 * MINUTE,
      ),
    );
    const anomalies = await triagedAnomalies(key, 'checkout_latency');
    expect(anomalies[0].explanation).toMatchObject({
      triage: 'done',
      verdict: 'anomaly',
      severity: 'warning',
      explanation: FAKE_VERDICT.explanation,
      model: 'fake-model',
    });
    const [alert] = await eventually(
      async () => (alertsOf('checkout_latency').length > 0 ? alertsOf('checkout_latency') : undefined),
      'its alert',
    );
    // The LLM may lower the severity to its own, never raise it.
    expect(alert.severity).toBe('warning');
    expect(alert.summary).toContain(FAKE_VERDICT.explanation);
    expect(alert.series[0].explanation).toMatchObject({ triage: 'done', verdict: 'anomaly' });

    const sent = llm.requests.filter((r) => JSON.stringify(r.body).includes('checkout_latency'));
    expect(sent.length).toBeGreaterThan(0);
    for (const request of sent) {
      const text = JSON.stringify(request.body);
      expect(text).not.toContain('ceo@acme.example');
      expect(text).toContain('[redacted]');
    }
    // What it was shown is the series' stored week in five-minute means (100 of them before
    // the spike), not only the anomaly's own 8-point context.
    const triageRequest = sent.find((r) => !isProfiling(r))!;
    const messages = (triageRequest.body as { messages: Array<{ role: string; content: string }> }).messages;
    const shown = JSON.parse(messages.find((m) => m.role === 'user')!.content) as {
      baseline: { points: number } | null;
    };
    expect(shown.baseline?.points).toBeGreaterThanOrEqual(50);

    const usage = await eventually(async () => {
      const got = await call<{ totals: Record<string, number> }>('GET', '/v1/usage', key);
      return got.body.totals.llm_tokens_in > 0 ? got.body.totals : undefined;
    }, 'the LLM tokens to be metered');
    expect(usage.llm_tokens_out).toBeGreaterThan(0);
    expect(usage.llm_cost_usd).toBeCloseTo((usage.llm_tokens_in * 1 + usage.llm_tokens_out * 2) / 1e6, 6);
  }, 60_000);

  it("keeps an expected anomaly quiet under the tenant's suppress policy, stored with its verdict", async () => {
    const key = await tenant('expecting', { llm: { triage: true, expected_policy: 'suppress' } });
    await push(key, spikySeries('nightly_batch_runtime', { job: 'etl' }, Date.now() - 600 * MINUTE));
    const anomalies = await triagedAnomalies(key, 'nightly_batch_runtime');
    expect(anomalies[0].explanation).toMatchObject({ triage: 'done', verdict: 'expected' });
    // Give an alert time to have gone out, had it been sent.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(alertsOf('nightly_batch_runtime')).toEqual([]);
  }, 60_000);

  it('profiles a series once per pattern and keeps quiet a move its profile says does not matter', async () => {
    const key = await tenant('profiled', { llm_triage: true });
    const start = Date.now() - 600 * MINUTE;
    await push(key, [
      ...spikySeries('errors_rate', { host: 'web-1' }, start, 0),
      ...spikySeries('errors_rate', { host: 'web-2' }, start, 0),
    ]);
    await triagedAnomalies(key, 'errors_rate');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // A fall of an error rate is good news: stored and triaged, never alerted.
    expect(alertsOf('errors_rate')).toEqual([]);
    const profiling = llm.requests.filter(
      (r) => isProfiling(r) && JSON.stringify(r.body).includes('errors_rate'),
    );
    expect(profiling).toHaveLength(1);
  }, 60_000);

  it('skips triage, asking nothing, for a tenant whose daily token budget is spent', async () => {
    const key = await tenant('frugal', { llm: { triage: true, daily_tokens: 0 } });
    await push(key, spikySeries('frugal_disk_io', { host: 'd' }, Date.now() - 600 * MINUTE));
    const anomalies = await triagedAnomalies(key, 'frugal_disk_io');
    expect(anomalies[0].explanation).toEqual({ triage: 'skipped', reason: 'tenant_budget' });
    expect(llm.requests.some((r) => JSON.stringify(r.body).includes('frugal_disk_io'))).toBe(false);
    const [alert] = await eventually(
      async () => (alertsOf('frugal_disk_io').length > 0 ? alertsOf('frugal_disk_io') : undefined),
      'its alert',
    );
    expect(alert.series[0].explanation).toEqual({ triage: 'skipped', reason: 'tenant_budget' });
  }, 60_000);

  it('alerts without a verdict, marked skipped, while the provider fails', async () => {
    const key = await tenant('unlucky', { llm_triage: true, llm: { profiling: false } });
    await push(key, spikySeries('flaky_queue_depth', { host: 'q' }, Date.now() - 600 * MINUTE));
    const [alert] = await eventually(
      async () => (alertsOf('flaky_queue_depth').length > 0 ? alertsOf('flaky_queue_depth') : undefined),
      'its alert',
    );
    expect(alert.series[0].explanation).toMatchObject({ triage: 'skipped' });
    const anomalies = await triagedAnomalies(key, 'flaky_queue_depth');
    expect(anomalies[0].explanation).toMatchObject({ triage: 'skipped' });
  }, 60_000);
});
