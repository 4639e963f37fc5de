import { eventually, startTestServer, type TestServer } from './embedded-server.harness';

const ADMIN = 'e2e-admin-token-0123456789';
const MINUTE = 60_000;

interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
}

describe('embedded Seismo: tenants, ingest, engine, queries (real server, real embedded ClickHouse)', () => {
  let server: TestServer;

  const call = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    token?: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<Answer<T>> => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': contentType } : {}),
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as T };
  };

  beforeAll(async () => {
    // Ingest decoded on a worker thread, as on machines with cores to spare (the other suites decode inline).
    server = await startTestServer({
      SEISMO_ADMIN_TOKEN: ADMIN,
      SEISMO_PARTITIONS: '2',
      SEISMO_INGEST_THREADS: '1',
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it('creates tenants with the admin token only, each with a working key shown once', async () => {
    expect((await call('POST', '/v1/tenants', undefined, { name: 'acme' })).status).toBe(401);
    expect((await call('POST', '/v1/tenants', 'wrong-token-wrong-token', { name: 'acme' })).status).toBe(401);
    const bad = await call('POST', '/v1/tenants', ADMIN, { name: 'acme', plan: 'gold' });
    expect(bad.status).toBe(400);
    const created = await call<{ id: string; name: string; api_key: string }>('POST', '/v1/tenants', ADMIN, {
      name: 'acme',
    });
    expect(created.status).toBe(201);
    expect(created.body.name).toBe('acme');
    expect(created.body.api_key).toMatch(/^sk_/);
  });

  it('scores pushed points, stores them and finds the spike, for its tenant only', async () => {
    const acme = (await call<{ api_key: string }>('POST', '/v1/tenants', ADMIN, { name: 'acme-ops' })).body
      .api_key;
    const globex = (await call<{ api_key: string }>('POST', '/v1/tenants', ADMIN, { name: 'globex' })).body
      .api_key;
    const start = Date.now() - 700 * MINUTE;
    const points: unknown[] = [];
    for (let i = 0; i < 600; i++) {
      const value = i === 500 ? 400 : 50 + 5 * Math.sin(i / 20) + ((i * 7919) % 13) / 13;
      points.push({ series: 'cpu', labels: { host: 'a' }, ts: start + i * MINUTE, value });
    }
    points.push({ series: 'cpu', labels: { host: 'a' }, ts: 'yesterday', value: 1 });

    const pushed = await call<{ accepted: number; rejected: Array<{ index: number; error: string }> }>(
      'POST',
      '/v1/points',
      acme,
      { points },
    );
    expect(pushed.status).toBe(202);
    expect(pushed.body.accepted).toBe(600);
    expect(pushed.body.rejected).toHaveLength(1);
    expect(pushed.body.rejected[0].index).toBe(600);
    expect(pushed.body.rejected[0].error).toMatch(/points\[600\]\.ts/);

    const anomalies = await eventually(async () => {
      const found = await call<{ anomalies: Array<{ series: string; ts: string; score: number }> }>(
        'GET',
        '/v1/anomalies',
        acme,
      );
      return found.body.anomalies.length > 0 ? found.body.anomalies : undefined;
    }, 'the spike to become an anomaly');
    const spike = new Date(start + 500 * MINUTE).toISOString();
    expect(anomalies.map((a) => a.ts)).toContain(spike);
    expect(anomalies[0].series).toBe('cpu{host="a"}');

    const series = await eventually(async () => {
      const found = await call<{ series: Array<{ series: string; points: number }> }>(
        'GET',
        '/v1/series',
        acme,
      );
      return found.body.series.find((s) => s.points === 600);
    }, 'all 600 points to be stored');
    expect(series.series).toBe('cpu{host="a"}');

    const chart = await call<{ resolution: string; points: Array<{ value: number; score: number }> }>(
      'GET',
      `/v1/series/${encodeURIComponent('cpu{host="a"}')}/points?from=${start}&to=${start + 600 * MINUTE}`,
      acme,
    );
    expect(chart.status).toBe(200);
    expect(chart.body.resolution).toBe('raw');
    expect(chart.body.points).toHaveLength(600);
    expect(Math.max(...chart.body.points.map((p) => p.score))).toBeGreaterThanOrEqual(0.5);

    // Another tenant sees none of it, even naming the series.
    expect((await call<{ anomalies: unknown[] }>('GET', '/v1/anomalies', globex)).body.anomalies).toEqual([]);
    expect((await call<{ series: unknown[] }>('GET', '/v1/series', globex)).body.series).toEqual([]);
    const other = await call<{ points: unknown[] }>(
      'GET',
      `/v1/series/${encodeURIComponent('cpu{host="a"}')}/points?from=${start}&to=${start + 600 * MINUTE}`,
      globex,
    );
    expect(other.body.points).toEqual([]);
  });

  it('takes Influx line protocol', async () => {
    const key = (await call<{ api_key: string }>('POST', '/v1/tenants', ADMIN, { name: 'telegraf' })).body
      .api_key;
    const now = Date.now();
    const lines = `mem,host=a used=1.5,free=2i ${now}\nmem,host=a used=oops ${now}\n`;
    const written = await call<{ accepted: number; rejected: Array<{ index: number }> }>(
      'POST',
      '/v1/write?precision=ms',
      key,
      lines,
      'text/plain',
    );
    expect(written.status).toBe(202);
    expect(written.body.accepted).toBe(2);
    expect(written.body.rejected.map((r) => r.index)).toEqual([2]);
  });

  it('refuses requests without a valid key, and malformed bodies, with a clear answer', async () => {
    expect((await call('GET', '/v1/anomalies')).status).toBe(401);
    expect((await call('GET', '/v1/anomalies', 'sk_not_a_real_key')).status).toBe(401);
    const key = (await call<{ api_key: string }>('POST', '/v1/tenants', ADMIN, { name: 'careless' })).body
      .api_key;
    const malformed = await call<{ error: string }>(
      'POST',
      '/v1/points',
      key,
      '{"points": [',
      'application/json',
    );
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatch(/^body: not valid JSON/);
    // The JSON ingest route reads its own bytes: a "__proto__" label is refused by name,
    // and the valid point beside it is taken.
    const poisoned = await call<{ accepted: number; rejected: Array<{ index: number; error: string }> }>(
      'POST',
      '/v1/points',
      key,
      `{"points": [{"series": "cpu", "ts": ${Date.now()}, "value": 1, "labels": {"__proto__": "x"}},
                   {"series": "cpu", "ts": ${Date.now()}, "value": 2}]}`,
    );
    expect(poisoned.status).toBe(202);
    expect(poisoned.body.accepted).toBe(1);
    expect(poisoned.body.rejected).toEqual([
      { index: 0, error: expect.stringMatching(/^points\[0\]\.labels\.__proto__: name is reserved/) },
    ]);
    // Every other JSON route keeps fastify's refusal of prototype poisoning.
    const tenantPoisoned = await call(
      'POST',
      '/v1/tenants',
      ADMIN,
      '{"name": "x", "__proto__": {"admin": true}}',
    );
    expect(tenantPoisoned.status).toBe(400);
    const badQuery = await call<{ error: string }>('GET', '/v1/anomalies?min_score=2', key);
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.error).toMatch(/min_score/);
  });
});
