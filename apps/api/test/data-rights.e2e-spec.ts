import { gunzipSync } from 'node:zlib';
import { eventually, startTestServer, type TestServer } from './embedded-server.harness';

const ADMIN = 'e2e-admin-token-0123456789';
const MINUTE = 60_000;

interface Answer<T> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

interface CreatedTenant {
  id: string;
  api_key: string;
  admin_member_id?: string;
}

interface Line {
  type: string;
  [field: string]: unknown;
}

/**
 * Export, erasure and offboarding through the real embedded server: what a tenant's admin
 * downloads, and what is left in storage (every column of every table, scanned) once a
 * tenant is erased, now or at the end of its grace period.
 */
describe('data rights (real server, real embedded ClickHouse)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      SEISMO_ADMIN_TOKEN: ADMIN,
      SEISMO_PARTITIONS: '2',
      SEISMO_CHECKPOINT_INTERVAL_MS: '200',
      SEISMO_TENANT_RELOAD_MS: '300',
      SEISMO_PURGE_INTERVAL_MS: '300',
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  async function call<T>(method: string, path: string, token?: string, body?: unknown): Promise<Answer<T>> {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    const type = response.headers.get('content-type') ?? '';
    const parsed = type.includes('json') ? (JSON.parse(bytes.toString('utf8')) as T) : (bytes as T);
    return { status: response.status, headers: response.headers, body: parsed };
  }

  async function tenant(fields: Record<string, unknown>): Promise<CreatedTenant> {
    const created = await call<CreatedTenant>('POST', '/v1/tenants', ADMIN, fields);
    expect(created.status).toBe(201);
    return created.body;
  }

  /** A steady series with a spike at the end: points, an anomaly, usage and detector state. */
  async function pushSeries(key: string, series: string, count = 200): Promise<number> {
    const start = Date.now() - (count + 5) * MINUTE;
    const points = Array.from({ length: count }, (_, i) => ({
      series,
      ts: start + i * MINUTE,
      value: i === count - 1 ? 900 : 100 + (i % 7),
    }));
    const pushed = await call<{ accepted: number }>('POST', '/v1/points', key, { points });
    expect(pushed.body.accepted).toBe(count);
    return start + count * MINUTE;
  }

  /** Pushes one more point at a time until a checkpoint of the tenant's series is stored. */
  async function untilCheckpointed(id: string, key: string, series: string, from: number): Promise<void> {
    let ts = from;
    await eventually(async () => {
      const [row] = await server.query<{ n: string }>(
        `SELECT count() AS n FROM checkpoints WHERE tenant_id = '${id}' AND series = '${series}'`,
      );
      if (Number(row.n) > 0) return true;
      ts += MINUTE;
      await call('POST', '/v1/points', key, { points: [{ series, ts, value: 101 }] });
      return undefined;
    }, `a checkpoint of ${series}`);
  }

  async function storedPoints(id: string): Promise<number> {
    const [row] = await server.query<{ n: string }>(
      `SELECT count() AS n FROM points WHERE tenant_id = '${id}'`,
    );
    return Number(row.n);
  }

  /**
   * Every row of every table of the database with any column holding one of `needles`
   * (as text), per table: what a tenant left behind.
   */
  async function scan(needles: readonly string[]): Promise<Record<string, Array<Record<string, unknown>>>> {
    const columns = await server.query<{ table: string; name: string }>(
      `SELECT table, name FROM system.columns WHERE database = currentDatabase() ORDER BY table, position`,
    );
    const tables = new Map<string, string[]>();
    for (const { table, name } of columns) tables.set(table, [...(tables.get(table) ?? []), name]);
    const found: Record<string, Array<Record<string, unknown>>> = {};
    for (const [table, names] of tables) {
      // ifNull: a NULL cell (an open tenant's closed_at) would make the whole row's text NULL.
      const text = `concat(${names.map((name) => `ifNull(toString(\`${name}\`), '')`).join(", '|', ")})`;
      const matches = needles.map((needle) => `position(${text}, '${needle}') > 0`).join(' OR ');
      const rows = await server.query<Record<string, unknown>>(
        `SELECT ${names.map((name) => `toString(\`${name}\`) AS \`${name}\``).join(', ')} FROM ${table} WHERE ${matches}`,
      );
      if (rows.length > 0) found[table] = rows;
    }
    return found;
  }

  async function engineSeries(): Promise<number> {
    const response = await fetch(`${server.url}/metrics`);
    const line = (await response.text()).split('\n').find((l) => l.startsWith('seismo_engine_series '));
    return Number(line?.split(' ')[1]);
  }

  it("exports everything a tenant has as gzip NDJSON, to the tenant's admins only", async () => {
    const owner = await tenant({ name: 'exporter', admin_email: 'ada@export.example' });
    const other = await tenant({ name: 'bystander' });
    await pushSeries(owner.api_key, 'export_cpu');
    await pushSeries(other.api_key, 'bystander_cpu', 20);
    await eventually(
      async () => ((await storedPoints(owner.id)) === 200 ? true : undefined),
      'stored points',
    );
    // Usage lands up to the engine's usage linger after the points.
    await eventually(async () => {
      const [row] = await server.query<{ n: string }>(
        `SELECT sum(points_ingested) AS n FROM usage_hourly WHERE tenant_id = '${owner.id}'`,
      );
      return Number(row?.n) === 200 ? true : undefined;
    }, 'the usage counted');
    const anomalies = await eventually(async () => {
      const found = await call<{ anomalies: unknown[] }>('GET', '/v1/anomalies', owner.api_key);
      return found.body.anomalies.length > 0 ? found.body.anomalies : undefined;
    }, 'an anomaly');
    const member = await call<{ id: string }>('POST', '/v1/members', owner.api_key, {
      email: 'bob@export.example',
      role: 'member',
    });
    const memberKey = await call<{ api_key: string }>('POST', '/v1/keys', owner.api_key, {
      name: 'bob',
      scopes: ['ingest', 'read'],
      member_id: member.body.id,
    });

    const path = `/v1/tenants/${owner.id}/export`;
    expect((await call('GET', path)).status).toBe(401);
    expect((await call('GET', path, memberKey.body.api_key)).status).toBe(403);
    expect((await call('GET', path, other.api_key)).status).toBe(404);

    const download = await call<Buffer>('GET', path, owner.api_key);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/gzip');
    expect(download.headers.get('content-disposition')).toMatch(
      new RegExp(`^attachment; filename="seismo-export-${owner.id}-[0-9T-]+\\.ndjson\\.gz"$`),
    );
    const text = gunzipSync(download.body).toString('utf8');
    const lines = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Line);
    expect(lines[0]).toMatchObject({ type: 'export', format: 1, tenant_id: owner.id });
    const end = lines[lines.length - 1];
    const records = lines.slice(1, -1);
    const counts: Record<string, number> = {};
    for (const record of records) counts[record.type] = (counts[record.type] ?? 0) + 1;
    expect(end).toEqual({ type: 'end', counts });

    expect(counts.point).toBe(200);
    expect(new Set(records.filter((r) => r.type === 'point').map((r) => r.series))).toEqual(
      new Set(['export_cpu']),
    );
    expect(counts.anomaly).toBe(anomalies.length);
    expect(records.filter((r) => r.type === 'member').map((r) => r.email)).toEqual(
      expect.arrayContaining(['ada@export.example', 'bob@export.example']),
    );
    expect(counts.api_key).toBe(2);
    const tenantRecord = records.find((r) => r.type === 'tenant');
    expect(tenantRecord).toMatchObject({ id: owner.id, name: 'exporter' });
    // Settings as stored: JSON, as `limits` is.
    expect(JSON.parse(tenantRecord!.llm as string)).toEqual({
      triage: false,
      expectedPolicy: 'downgrade',
      redactLabels: [],
      profiling: true,
    });
    const audit = records.filter((r) => r.type === 'audit').map((r) => r.action);
    expect(audit).toEqual(
      expect.arrayContaining(['tenant.created', 'member.added', 'key.created', 'tenant.exported']),
    );
    expect(counts.usage_hour).toBeGreaterThan(0);
    // Nothing of another tenant, and no secret: neither key, nor any hash of one.
    for (const secret of [other.id, 'bystander', owner.api_key, memberKey.body.api_key, 'key_hash']) {
      expect(text).not.toContain(secret);
    }
  }, 60_000);

  it('erases a tenant now: nothing of it is left in any table, its keys and detector state are gone', async () => {
    const erased = await tenant({ name: 'leaving', admin_email: 'eve@leaving.example' });
    const hidden = await tenant({ name: 'private', zero_retention: true });
    const kept = await tenant({ name: 'staying' });
    const patched = await call('PATCH', `/v1/tenants/${erased.id}`, ADMIN, {
      billing: { stripe_customer_id: 'cus_LEAVING123' },
    });
    expect(patched.status).toBe(200);
    const series = { erased: 'leaving_latency', hidden: 'private_queue', kept: 'staying_cpu' };
    const last = {
      erased: await pushSeries(erased.api_key, series.erased),
      hidden: await pushSeries(hidden.api_key, series.hidden),
      kept: await pushSeries(kept.api_key, series.kept),
    };
    await untilCheckpointed(erased.id, erased.api_key, series.erased, last.erased);
    await untilCheckpointed(hidden.id, hidden.api_key, series.hidden, last.hidden);
    await untilCheckpointed(kept.id, kept.api_key, series.kept, last.kept);
    const needles = [
      erased.id,
      hidden.id,
      series.erased,
      series.hidden,
      'eve@leaving.example',
      'cus_LEAVING123',
    ];
    const before = await scan(needles);
    for (const table of ['points', 'anomalies', 'checkpoints', 'usage_hourly', 'series_hourly', 'tenants']) {
      expect(Object.keys(before)).toContain(table);
    }
    const keptPoints = await storedPoints(kept.id);
    const seriesBefore = await engineSeries();

    // The id must be repeated: a stray DELETE erases nothing.
    const unconfirmed = await call<{ error: string }>('DELETE', `/v1/tenants/${erased.id}`, erased.api_key);
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.body.error).toMatch(/^confirm: /);
    const wrong = await call<{ field: string }>(
      'DELETE',
      `/v1/tenants/${erased.id}?confirm=${kept.id}`,
      ADMIN,
    );
    expect([wrong.status, wrong.body.field]).toEqual([400, 'confirm']);
    expect((await call('DELETE', `/v1/tenants/${kept.id}?confirm=${kept.id}`, erased.api_key)).status).toBe(
      404,
    );

    // By the tenant's own admin key, and by the deployment admin.
    const byOwner = await call<{ id: string; erased_rows: Record<string, number> }>(
      'DELETE',
      `/v1/tenants/${erased.id}?confirm=${erased.id}`,
      erased.api_key,
    );
    expect(byOwner.status).toBe(200);
    expect(byOwner.body.id).toBe(erased.id);
    expect(byOwner.body.erased_rows.points).toBeGreaterThanOrEqual(200);
    expect(byOwner.body.erased_rows.checkpoints).toBeGreaterThan(0);
    expect(byOwner.body.erased_rows.members).toBeGreaterThan(0);
    const byAdmin = await call('DELETE', `/v1/tenants/${hidden.id}?confirm=${hidden.id}`, ADMIN);
    expect(byAdmin.status).toBe(200);

    expect((await call('GET', '/v1/series', erased.api_key)).status).toBe(401);
    expect((await call('GET', `/v1/tenants/${erased.id}`, ADMIN)).status).toBe(404);
    expect((await call('DELETE', `/v1/tenants/${erased.id}?confirm=${erased.id}`, ADMIN)).status).toBe(404);
    // The engine holds no state of their series any more; the other tenant's stays.
    expect(await engineSeries()).toBe(seriesBefore - 2);

    // The other tenant goes on, and its next checkpoint rounds bring back nothing erased.
    const more = await pushSeries(kept.api_key, 'staying_mem', 30);
    await untilCheckpointed(kept.id, kept.api_key, 'staying_mem', more);
    // Once the second pass ran (three reload periods after), all that is left of each is
    // the record of its erasure: who, when and how many rows, nothing of its data.
    const left = await eventually(
      async () => {
        const found = await scan(needles);
        return Object.keys(found).join() === 'audit_log' && found.audit_log.length === 2 ? found : undefined;
      },
      'the erased tenants gone from every table',
      10_000,
    );
    expect(left.audit_log.map((row) => [row.tenant_id, row.action])).toEqual(
      expect.arrayContaining([
        [erased.id, 'tenant.erased'],
        [hidden.id, 'tenant.erased'],
      ]),
    );
    for (const row of left.audit_log) {
      for (const personal of [series.erased, series.hidden, 'eve@leaving.example', 'cus_LEAVING123']) {
        expect(JSON.stringify(row)).not.toContain(personal);
      }
    }
    expect(await storedPoints(kept.id)).toBeGreaterThanOrEqual(keptPoints);
    expect((await call('GET', '/v1/series', kept.api_key)).status).toBe(200);
  }, 60_000);

  it('closes a tenant: its keys stop at once, it can be reopened, and it is erased when the grace period ends', async () => {
    const closing = await tenant({ name: 'closing', admin_email: 'cy@closing.example' });
    await pushSeries(closing.api_key, 'closing_cpu', 20);
    const path = `/v1/tenants/${closing.id}`;

    const tooLong = await call<{ error: string }>('POST', `${path}/close`, closing.api_key, {
      grace_days: 91,
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toMatch(/^grace_days: /);
    const closed = await call<{ status: string; closed_at: string; purge_after: string }>(
      'POST',
      `${path}/close`,
      closing.api_key,
      {},
    );
    expect(closed.status).toBe(200);
    expect(closed.body.status).toBe('closed');
    const grace = Date.parse(closed.body.purge_after) - Date.parse(closed.body.closed_at);
    expect(grace).toBe(30 * 24 * 60 * MINUTE);
    expect((await call('GET', '/v1/series', closing.api_key)).status).toBe(401);
    expect(
      (
        await call('POST', '/v1/points', closing.api_key, {
          points: [{ series: 'x', ts: Date.now(), value: 1 }],
        })
      ).status,
    ).toBe(401);
    // Only the deployment admin can bring it back (the tenant's keys no longer work).
    expect((await call('POST', `${path}/reopen`, closing.api_key)).status).toBe(401);
    expect((await call<{ status: string }>('GET', path, ADMIN)).body.status).toBe('closed');
    const reopened = await call<{ status: string }>('POST', `${path}/reopen`, ADMIN);
    expect([reopened.status, reopened.body.status]).toEqual([200, 'active']);
    expect((await call('GET', '/v1/series', closing.api_key)).status).toBe(200);
    const audit = await call<{ entries: Array<{ action: string }> }>('GET', '/v1/audit', closing.api_key);
    expect(audit.body.entries.map((e) => e.action).slice(0, 2)).toEqual(['tenant.reopened', 'tenant.closed']);

    // Closed again without grace: the purge erases it at its next run.
    const now = await call<{ purge_after: string }>('POST', `${path}/close`, ADMIN, { grace_days: 0 });
    expect(now.status).toBe(200);
    await eventually(
      async () => ((await call('GET', path, ADMIN)).status === 404 ? true : undefined),
      'the purge of the closed tenant',
      10_000,
    );
    const left = await eventually(
      async () => {
        const found = await scan([closing.id, 'closing_cpu', 'cy@closing.example']);
        return Object.keys(found).join() === 'audit_log' ? found : undefined;
      },
      'the closed tenant gone from every table',
      10_000,
    );
    expect(left.audit_log).toEqual([
      expect.objectContaining({ tenant_id: closing.id, action: 'tenant.erased', actor: 'system' }),
    ]);
  }, 60_000);
});
