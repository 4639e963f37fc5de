import { eventually, startTestServer, type TestServer } from './embedded-server.harness';

jest.setTimeout(60_000);

const ADMIN = 'e2e-admin-token-usage-0123456789';
const HOUR = 3_600_000;

interface Usage {
  from: string;
  to: string;
  granularity: string;
  totals: Record<string, number>;
  buckets: Array<Record<string, number> & { start: string }>;
}

describe('GET /v1/usage (real embedded server)', () => {
  let server: TestServer;
  let key: string;
  let tenantId: string;

  const call = async (path: string, token: string, init: RequestInit = {}) => {
    const response = await fetch(`${server.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };

  beforeAll(async () => {
    server = await startTestServer({ SEISMO_ADMIN_TOKEN: ADMIN });
    const created = await call('/v1/tenants', ADMIN, {
      method: 'POST',
      body: JSON.stringify({ name: 'metered' }),
    });
    ({ id: tenantId, api_key: key } = created.body as { id: string; api_key: string });
  });
  afterAll(() => server?.close());

  it("counts the tenant's points ingested, scored, rejected, and its active series, per hour and per day", async () => {
    const now = Date.now();
    const points = [
      ...Array.from({ length: 30 }, (_, i) => ({
        series: 'cpu',
        ts: now - (30 - i) * 1000,
        value: 1 + (i % 3),
      })),
      ...Array.from({ length: 10 }, (_, i) => ({ series: 'mem', ts: now - (10 - i) * 1000, value: 5 })),
      { series: 'cpu', ts: now, value: 'not a number' },
      { series: '', ts: now, value: 1 },
    ];
    const ingest = await call('/v1/points', key, { method: 'POST', body: JSON.stringify({ points }) });
    expect(ingest.status).toBe(202);
    expect(ingest.body).toMatchObject({ accepted: 40 });

    const usage = await eventually(async () => {
      const answer = await call('/v1/usage?granularity=hour', key);
      expect(answer.status).toBe(200);
      const body = answer.body as Usage;
      // Totals and buckets are two reads: both must have seen the request's two engine batches.
      const bucketed = body.buckets.reduce((sum, b) => sum + b.points_ingested, 0);
      return body.totals.points_ingested === 40 && bucketed === 40 ? body : undefined;
    }, 'the batch to be metered');
    expect(usage.granularity).toBe('hour');
    expect(usage.totals).toEqual({
      points_ingested: 40,
      points_scored: 40,
      points_rejected: 2,
      active_series: 2,
      anomalies: expect.any(Number),
      alerts_delivered: 0,
      llm_tokens_in: 0,
      llm_tokens_out: 0,
      llm_cost_usd: 0,
    });
    // Metered in the hour the engine scored the batch: this one, or the next if it just turned.
    expect(usage.buckets).toHaveLength(1);
    const hourStart = Date.parse(usage.buckets[0].start);
    expect(hourStart % HOUR).toBe(0);
    expect(hourStart).toBeGreaterThanOrEqual(Math.floor(now / HOUR) * HOUR);
    expect(usage.buckets[0]).toMatchObject({ points_ingested: 40, points_rejected: 2, active_series: 2 });

    const days = (await call('/v1/usage', key)).body as Usage;
    expect(days.granularity).toBe('day');
    expect(days.buckets).toHaveLength(1);
    expect(Date.parse(days.buckets[0].start) % (24 * HOUR)).toBe(0);
    expect(days.totals).toEqual(usage.totals);

    // A range that ends before the batch was scored holds nothing.
    const before = (
      await call(`/v1/usage?granularity=hour&to=${hourStart}&from=${hourStart - 5 * HOUR}`, key)
    ).body as Usage;
    expect(before.buckets).toEqual([]);
    expect(before.totals.points_ingested).toBe(0);
  });

  it('counts a request whose every point was refused, in the queue message of its own that carries the count', async () => {
    const before = ((await call('/v1/usage', key)).body as Usage).totals;
    const answer = await call('/v1/points', key, {
      method: 'POST',
      body: JSON.stringify({
        points: [
          { series: '', ts: Date.now(), value: 1 },
          { series: 'x', ts: 'soon', value: 1 },
        ],
      }),
    });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ accepted: 0 });
    const after = await eventually(async () => {
      const totals = ((await call('/v1/usage', key)).body as Usage).totals;
      return totals.points_rejected === before.points_rejected + 2 ? totals : undefined;
    }, 'the refusals to be metered');
    expect(after.points_ingested).toBe(before.points_ingested);
  });

  it('needs a key with the read scope', async () => {
    const ingestOnly = await call('/v1/keys', key, {
      method: 'POST',
      body: JSON.stringify({ name: 'pusher', scopes: ['ingest'] }),
    });
    expect(ingestOnly.status).toBe(201);
    expect((await call('/v1/usage', (ingestOnly.body as { api_key: string }).api_key)).status).toBe(403);
    expect((await call('/v1/usage', 'sk_not_a_key')).status).toBe(401);
    expect((await call('/v1/usage', ADMIN)).status).toBe(401);
    expect(tenantId).toBeTruthy();
  });

  it('answers 400 naming the parameter for a bad granularity, instant, range or unknown parameter', async () => {
    const cases: Array<[string, RegExp]> = [
      ['granularity=week', /granularity/],
      ['from=yesterday', /from/],
      ['from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z', /from .* is not before to/],
      ['granularity=hour&from=2030-01-01T00:00:00Z&to=2030-06-01T00:00:00Z', /more than 2232 hours/],
      ['tenant=other', /tenant/],
    ];
    for (const [query, message] of cases) {
      const answer = await call(`/v1/usage?${query}`, key);
      expect([query, answer.status]).toEqual([query, 400]);
      expect(JSON.stringify(answer.body)).toMatch(message);
    }
  });
});
