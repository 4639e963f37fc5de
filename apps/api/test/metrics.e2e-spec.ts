import { startTestServer, type TestServer } from './embedded-server.harness';

const ADMIN = 'e2e-admin-token-metrics-0123456789';
const MINUTE = 60_000;

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (the format prom-client writes: no escaped quotes in our labels). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g))
      labels[pair[1]] = pair[2];
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with this name whose labels include `labels`; 0 when there is none yet. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

describe('GET /metrics (real server, real embedded ClickHouse)', () => {
  let server: TestServer;

  const scrape = async (): Promise<{ text: string; samples: Sample[] }> => {
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    return { text, samples: parseExposition(text) };
  };

  const post = async (path: string, token: string, body: string, contentType: string) => {
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    server = await startTestServer({ SEISMO_ADMIN_TOKEN: ADMIN, SEISMO_PARTITIONS: '2' });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it('exposes every named metric without credentials, the queue gauge for each partition', async () => {
    const { text, samples } = await scrape();
    for (const name of [
      'seismo_ingest_points_total',
      'seismo_http_request_duration_seconds',
      'seismo_engine_batch_write_seconds',
      'seismo_engine_points_stored_total',
      'seismo_engine_anomalies_total',
      'seismo_engine_dead_letters_total',
      'seismo_queue_pending_bytes',
      'seismo_engine_consumer_lag_messages',
      'seismo_engine_series',
      'seismo_engine_state_bytes',
      'nodejs_eventloop_lag_seconds',
      'process_resident_memory_bytes',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    const partitions = samples
      .filter((s) => s.name === 'seismo_queue_pending_bytes')
      .map((s) => s.labels.partition);
    expect(partitions.sort()).toEqual(['0', '1']);
  });

  it('counts ingest by format, and what the engine scored, stored and found, with no tenant data in it', async () => {
    const tenant = await post(
      '/v1/tenants',
      ADMIN,
      JSON.stringify({ name: 'metered-tenant' }),
      'application/json',
    );
    const key = tenant.body.api_key as string;
    const before = (await scrape()).samples;

    const start = Date.now() - 700 * MINUTE;
    const points: unknown[] = [];
    for (let i = 0; i < 600; i++) {
      const value = i === 500 ? 400 : 50 + 5 * Math.sin(i / 20) + ((i * 7919) % 13) / 13;
      points.push({ series: 'secret_series', labels: { host: 'a' }, ts: start + i * MINUTE, value });
    }
    points.push({ series: 'secret_series', ts: 'yesterday', value: 1 });
    expect((await post('/v1/points', key, JSON.stringify({ points }), 'application/json')).status).toBe(202);
    const lines = `mem,host=b used=1.5,free=2i ${Date.now()}\nmem,host=b used=oops ${Date.now()}\n`;
    expect((await post('/v1/write?precision=ms', key, lines, 'text/plain')).status).toBe(202);
    expect((await post('/v1/points', 'sk_not_a_real_key', '{}', 'application/json')).status).toBe(401);

    // The engine scores asynchronously: wait until it has stored everything that was queued.
    const deadline = Date.now() + 30_000;
    let after = (await scrape()).samples;
    while (
      valueOf(after, 'seismo_engine_points_stored_total') -
        valueOf(before, 'seismo_engine_points_stored_total') <
      602
    ) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the engine to store 602 points');
      await new Promise((resolve) => setTimeout(resolve, 200));
      after = (await scrape()).samples;
    }
    const moved = (name: string, labels: Record<string, string> = {}): number =>
      valueOf(after, name, labels) - valueOf(before, name, labels);

    expect(moved('seismo_ingest_points_total', { format: 'json', outcome: 'accepted' })).toBe(600);
    expect(moved('seismo_ingest_points_total', { format: 'json', outcome: 'rejected' })).toBe(1);
    expect(moved('seismo_ingest_points_total', { format: 'influx', outcome: 'accepted' })).toBe(2);
    expect(moved('seismo_ingest_points_total', { format: 'influx', outcome: 'rejected' })).toBe(1);
    expect(moved('seismo_engine_points_stored_total')).toBe(602);
    expect(moved('seismo_engine_batch_write_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(moved('seismo_engine_dead_letters_total')).toBe(0);
    // cpu-like series plus mem's two fields: secret_series{host="a"}, mem_used{host="b"}, mem_free{host="b"}.
    expect(valueOf(after, 'seismo_engine_series')).toBe(3);
    // Three states of one fixed size.
    const stateBytes = valueOf(after, 'seismo_engine_state_bytes');
    expect(stateBytes).toBeGreaterThan(0);
    expect(stateBytes % 3).toBe(0);

    const found = await fetch(`${server.url}/v1/anomalies?limit=10000`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const anomalies = ((await found.json()) as { anomalies: unknown[] }).anomalies;
    expect(anomalies.length).toBeGreaterThanOrEqual(1);
    expect(moved('seismo_engine_anomalies_total')).toBe(anomalies.length);

    expect(
      moved('seismo_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/v1/points',
        status: '202',
      }),
    ).toBe(1);
    expect(
      moved('seismo_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/v1/points',
        status: '401',
      }),
    ).toBe(1);
    expect(
      moved('seismo_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/v1/write',
        status: '202',
      }),
    ).toBe(1);

    const { text } = await scrape();
    expect(text).not.toContain('secret_series');
    expect(text).not.toContain('metered-tenant');
    expect(text).not.toContain(key);
    expect(text).not.toContain(tenant.body.id as string);
  }, 60_000);

  it('labels requests no route matched as one route, never by their URL', async () => {
    expect((await fetch(`${server.url}/no/such/path/a-very-distinct-url`)).status).toBe(404);
    const { text, samples } = await scrape();
    expect(text).not.toContain('a-very-distinct-url');
    expect(
      valueOf(samples, 'seismo_http_request_duration_seconds_count', {
        method: 'GET',
        route: 'unmatched',
        status: '404',
      }),
    ).toBeGreaterThanOrEqual(1);
  });
});
