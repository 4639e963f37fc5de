import { AnomalyRepository } from '../src/anomaly.repository';
import { PointRepository } from '../src/point.repository';
import { type ExportRecord, TENANT_TABLES, TenantDataRepository } from '../src/tenant-data.repository';
import { anomalyRecord, freshTenant, freshToken, pointRecord, TestStorage } from './storage.harness';

let storage: TestStorage;
let data: TenantDataRepository;
beforeAll(async () => {
  storage = await TestStorage.start();
  data = new TenantDataRepository(storage.connection);
});
afterAll(async () => {
  await storage.stop();
});

async function collect(records: AsyncIterable<ExportRecord>): Promise<ExportRecord[]> {
  const out: ExportRecord[] = [];
  for await (const record of records) out.push(record);
  return out;
}

/**
 * One row of `tenant` in every table of the catalogue, the other columns at their defaults
 * but for those a TTL or a time filter reads (kept 30 days from now).
 */
async function rowInEveryTable(tenant: string): Promise<void> {
  for (const { table, tenantColumn } of TENANT_TABLES) {
    const columns = await storage.rows<{ name: string }>(
      'SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {table:String}',
      { table },
    );
    const names = new Set(columns.map((c) => c.name));
    const set: Record<string, string> = { [tenantColumn]: '{tenant:String}' };
    if (names.has('retention_days')) set.retention_days = '30';
    for (const time of ['ts', 'hour', 'at', 'created_at', 'updated_at'])
      if (names.has(time)) set[time] = 'now()';
    await storage.client.command({
      query: `INSERT INTO ${table} (${Object.keys(set).join(', ')}) SELECT ${Object.values(set).join(', ')}`,
      query_params: { tenant },
    });
  }
}

describe('the catalogue of tenant tables', () => {
  it('lists every table the migrations made with a tenant column', async () => {
    expect(await data.uncatalogued()).toEqual([]);
  });

  it('names a table with a tenant column it does not list', async () => {
    await storage.client.command({
      query: 'CREATE TABLE forgotten (tenant_id String, x UInt8) ENGINE = MergeTree ORDER BY tenant_id',
    });
    try {
      expect(await data.uncatalogued()).toEqual(['forgotten']);
    } finally {
      await storage.client.command({ query: 'DROP TABLE forgotten' });
    }
  });
});

describe('export', () => {
  it("streams a tenant's points page by page in series and time order, and nobody else's", async () => {
    const [mine, other] = [freshTenant(), freshTenant()];
    const t0 = Date.UTC(2026, 10, 1);
    const points = [
      ...[0, 1, 2, 3, 4].map((i) => pointRecord(mine, 'b.cpu', t0 + i * 1000, { value: i })),
      ...[0, 1].map((i) => pointRecord(mine, 'a.mem', t0 + i * 1000, { value: 10 + i })),
      pointRecord(other, 'a.mem', t0, { value: 99 }),
    ];
    await new PointRepository(storage.connection).insertBatch(points, freshToken('export'));

    const records = await collect(data.export(mine, 2));
    const exported = records.filter((r) => r.type === 'point');
    expect(exported.map((r) => [r.series, r.value])).toEqual([
      ['a.mem', 10],
      ['a.mem', 11],
      ['b.cpu', 0],
      ['b.cpu', 1],
      ['b.cpu', 2],
      ['b.cpu', 3],
      ['b.cpu', 4],
    ]);
    expect(exported[0]).toEqual({
      type: 'point',
      series: 'a.mem',
      ts: '2026-11-01T00:00:00.000Z',
      value: 10,
      score: 0,
      flags: 0,
    });
    expect(records.some((r) => JSON.stringify(r).includes(other))).toBe(false);
  });

  it('exports the current revision of an anomaly once, and never a secret', async () => {
    const tenant = freshTenant();
    const ts = Date.UTC(2026, 10, 2);
    const anomalies = new AnomalyRepository(storage.connection);
    await anomalies.insertBatch([anomalyRecord(tenant, 'an-1', ts)], freshToken('export'));
    await anomalies.insertBatch(
      [anomalyRecord(tenant, 'an-1', ts, { revision: 1, explanation: 'a deploy' })],
      freshToken('export'),
    );
    await rowInEveryTable(tenant);

    const records = await collect(data.export(tenant));
    const exported = records.filter((r) => r.type === 'anomaly' && r.id === 'an-1');
    expect(exported).toHaveLength(1);
    expect(exported[0]).toMatchObject({ series: 'cpu', explanation: 'a deploy', context_values: [1, 2] });
    const types = new Set(records.map((r) => r.type));
    for (const type of [
      'tenant',
      'member',
      'api_key',
      'audit',
      'usage_hour',
      'series_hour',
      'billing_send',
      'alert_delivery',
      'incident',
    ]) {
      expect(types).toContain(type);
    }
    expect(types).not.toContain('checkpoint');
    for (const record of records) {
      expect(Object.keys(record)).not.toEqual(expect.arrayContaining(['key_hash']));
      expect(Object.keys(record)).not.toEqual(expect.arrayContaining(['password_hash']));
    }
  });
});

describe('erasure', () => {
  it("deletes the tenant's rows from every table but the record of its erasure, and nobody else's", async () => {
    const [erased, kept] = [freshTenant(), freshTenant()];
    await rowInEveryTable(erased);
    await rowInEveryTable(kept);
    await storage.client.command({
      query: `INSERT INTO audit_log (tenant_id, at, id, action) SELECT {tenant:String}, now(), 'x', 'tenant.erased'`,
      query_params: { tenant: erased },
    });
    const before = await data.count(erased);
    for (const { table } of TENANT_TABLES)
      expect([table, before[table]]).toEqual([table, expect.any(Number)]);
    expect(Object.values(before).every((n) => n >= 1)).toBe(true);

    const counts = await data.erase(erased);
    // The erasure's own record stays, so the audit log holds one row more than was erased.
    expect(counts).toEqual({ ...before, audit_log: before.audit_log - 1 });
    const after = await data.count(erased);
    expect(after).toEqual(
      Object.fromEntries(TENANT_TABLES.map(({ table }) => [table, table === 'audit_log' ? 1 : 0])),
    );
    expect(Object.values(await data.count(kept)).every((n) => n >= 1)).toBe(true);

    // Erasing again finds nothing left to delete.
    expect(Object.values(await data.erase(erased)).every((n) => n === 0)).toBe(true);
  });
});

describe('settings', () => {
  it('leaves none of its statement settings on the session for the reads that follow', async () => {
    const tenant = freshTenant();
    await rowInEveryTable(tenant);
    await collect(data.export(tenant, 2));
    await data.erase(tenant);
    // chdb/connection turns a query's clickhouse_settings into SETs its session keeps:
    // export's ISO dates and erasure's mutations_sync = 2 would then apply to every read.
    const [session] = await storage.rows<{ dates: string; mutations: number }>(
      `SELECT getSetting('date_time_output_format') AS dates, toUInt8(getSetting('mutations_sync')) AS mutations`,
    );
    expect(session.dates).toBe('simple');
    expect(session.mutations).toBeLessThan(2);
  });
});
