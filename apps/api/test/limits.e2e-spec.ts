import { LimitReason } from '../src/limits/limit.reason';
import { eventually, startTestServer, type TestServer } from './embedded-server.harness';

const ADMIN = 'e2e-admin-token-0123456789';
const DAY = 86_400_000;

interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

interface Rejected {
  accepted: number;
  rejected: { index: number; error: string }[];
}

describe("a tenant's limits and retention (real server, real embedded ClickHouse)", () => {
  let server: TestServer;

  const call = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    token?: string,
    body?: unknown,
  ): Promise<Answer<T>> => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as T };
  };

  const tenant = async (name: string): Promise<{ id: string; key: string }> => {
    const created = await call<{ id: string; api_key: string }>('POST', '/v1/tenants', ADMIN, { name });
    expect(created.status).toBe(201);
    return { id: created.body.id, key: created.body.api_key };
  };

  const push = (key: string, points: unknown[]) => call<Rejected>('POST', '/v1/points', key, { points });

  const metric = async (reason: string): Promise<number> => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`seismo_limit_rejections_total{reason="${reason}",stage="ingest"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  beforeAll(async () => {
    server = await startTestServer({ SEISMO_ADMIN_TOKEN: ADMIN, SEISMO_PARTITIONS: '2' });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it('lets only the deployment admin change plan and limits, and audits it', async () => {
    const { id, key } = await tenant('self-raiser');
    const own = await call('PATCH', `/v1/tenants/${id}`, key, { limits: { max_series: 1_000_000 } });
    expect(own.status).toBe(403);
    expect(own.body.error).toMatch(/deployment admin token/);
    expect((await call('PATCH', `/v1/tenants/${id}`, key, { plan: 'enterprise' })).status).toBe(403);

    const bad = await call('PATCH', `/v1/tenants/${id}`, ADMIN, { limits: { max_series: 0 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/maxSeries must be an integer/);

    const set = await call<{ plan: string; limits: Record<string, number>; limit_overrides: object }>(
      'PATCH',
      `/v1/tenants/${id}`,
      ADMIN,
      { plan: 'free', limits: { max_series: 7 } },
    );
    expect(set.status).toBe(200);
    expect(set.body.plan).toBe('free');
    expect(set.body.limit_overrides).toEqual({ max_series: 7 });
    expect(set.body.limits).toEqual({
      points_per_second: 1000,
      points_burst: 10000,
      requests_per_second: 20,
      requests_burst: 40,
      max_series: 7,
    });
    // The tenant reads its own limits with any key of its own.
    const read = await call<{ plan: string; limits: Record<string, number> }>(
      'GET',
      `/v1/tenants/${id}`,
      key,
    );
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ plan: 'free', limits: { max_series: 7 } });
    const back = await call<{ limits: Record<string, number> }>('PATCH', `/v1/tenants/${id}`, ADMIN, {
      limits: { max_series: null },
    });
    expect(back.body.limits.max_series).toBe(1000);

    const audit = await call<{
      entries: { action: string; details: { changes: Record<string, unknown> } }[];
    }>('GET', '/v1/audit', key);
    const changes = audit.body.entries
      .filter((e) => e.action === 'tenant.updated')
      .map((e) => e.details.changes);
    expect(changes).toContainEqual({
      plan: { from: 'team', to: 'free' },
      'limits.max_series': { from: null, to: 7 },
    });
  });

  it('answers 429 with Retry-After and the limit named when requests come too fast', async () => {
    const { id, key } = await tenant('chatty');
    await call('PATCH', `/v1/tenants/${id}`, ADMIN, {
      limits: { requests_per_second: 1, requests_burst: 2 },
    });
    const before = await metric(LimitReason.REQUESTS_PER_SECOND);
    const point = [{ series: 'up', ts: Date.now(), value: 1 }];
    expect((await push(key, point)).status).toBe(202);
    expect((await push(key, point)).status).toBe(202);
    const refused = await push(key, point);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body).toMatchObject({ code: 'RATE_LIMITED', limit: 'requests_per_second' });
    expect(await metric(LimitReason.REQUESTS_PER_SECOND)).toBe(before + 1);
    // After the wait it says, the same request passes.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await push(key, point)).status).toBe(202);
  });

  it('answers 429 with the wait the point bucket needs, and 413 for a request above the burst', async () => {
    const { id, key } = await tenant('bursty');
    await call('PATCH', `/v1/tenants/${id}`, ADMIN, { limits: { points_per_second: 1, points_burst: 20 } });
    const now = Date.now();
    const points = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ series: 'x', ts: now + i, value: i }));
    expect((await push(key, points(15))).status).toBe(202);
    // 5 tokens left, 10 wanted: 5 more at one a second.
    const refused = await push(key, points(10));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.body).toMatchObject({ limit: 'points_per_second', retry_after_seconds: 5 });
    const whole = await push(key, points(21));
    expect(whole.status).toBe(413);
    expect(whole.body).toMatchObject({ code: 'BURST_EXCEEDED', limit: 'points_burst' });
    expect(whole.headers.get('retry-after')).toBeNull();
  });

  it('refuses new series beyond the series limit by index, and known series keep flowing', async () => {
    const { id, key } = await tenant('many-series');
    await call('PATCH', `/v1/tenants/${id}`, ADMIN, { limits: { max_series: 3 } });
    const now = Date.now();
    const first = await push(key, [
      { series: 'a', ts: now, value: 1 },
      { series: 'b', ts: now, value: 1 },
      { series: 'bad', ts: 'never', value: 1 },
      { series: 'c', ts: now, value: 1 },
      { series: 'd', ts: now, value: 1 },
      { series: 'a', ts: now + 1, value: 2 },
      { series: 'e', ts: now, value: 1 },
    ]);
    expect(first.status).toBe(202);
    expect(first.body.accepted).toBe(4);
    expect(first.body.rejected.map((r) => r.index)).toEqual([2, 4, 6]);
    expect(first.body.rejected[1].error).toMatch(/'d' is a new series .* max_series limit of 3/);
    const later = await push(key, [
      { series: 'c', ts: now + 5, value: 1 },
      { series: 'f', ts: now + 5, value: 1 },
    ]);
    expect(later.body.accepted).toBe(1);
    expect(later.body.rejected).toEqual([{ index: 1, error: expect.stringMatching(/max_series/) }]);
    const listed = await eventually(async () => {
      const found = await call<{ series: { series: string }[] }>('GET', '/v1/series', key);
      return found.body.series.length === 3 ? found.body.series : undefined;
    }, 'the three series let through');
    expect(listed.map((s) => s.series).sort()).toEqual(['a', 'b', 'c']);
  }, 30_000);

  it('applies a shorter retention to the points already stored', async () => {
    const { id, key } = await tenant('forgetful');
    const now = Date.now();
    // Ingest takes points up to 7 days old.
    const ages = [6, 5, 3, 1.5, 1, 0.5];
    const pushed = await push(
      key,
      ages.map((age) => ({ series: 'disk', ts: now - age * DAY, value: age })),
    );
    expect(pushed.body.accepted).toBe(ages.length);
    const stored = async () =>
      (
        await call<{ points: { ts: number; value: number }[] }>(
          'GET',
          `/v1/series/disk/points?from=${now - 30 * DAY}&to=${now}`,
          key,
        )
      ).body.points.map((p) => p.value);
    expect(
      await eventually(async () => ((await stored()).length === 6 ? true : undefined), 'six points'),
    ).toBe(true);

    const changed = await call('PATCH', `/v1/tenants/${id}`, key, { retention: { points_days: 2 } });
    expect(changed.status).toBe(200);
    // The PATCH answers once the rows are rewritten: older points are gone, no merge forced.
    expect((await stored()).sort((a, b) => a - b)).toEqual([0.5, 1, 1.5]);

    // Zero retention keeps no point: the ones already stored go too.
    expect((await call('PATCH', `/v1/tenants/${id}`, key, { zero_retention: true })).status).toBe(200);
    expect(await stored()).toEqual([]);
  }, 30_000);
});
