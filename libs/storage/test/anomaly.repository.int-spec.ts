import { type AnomalyRecord } from '../src/anomaly';
import { AnomalyRepository } from '../src/anomaly.repository';
import { StorageExceptionCode } from '../src/storage.exception';
import { parseTenantId } from '../src/tenant-id';
import { anomalyRecord, TestStorage, freshTenant, freshToken, storageRejection } from './storage.harness';

let storage: TestStorage;
let anomalies: AnomalyRepository;
beforeAll(async () => {
  storage = await TestStorage.start();
  anomalies = new AnomalyRepository(storage.connection);
});
afterAll(async () => {
  await storage.stop();
});

const T0 = Date.UTC(2031, 0, 1);

describe('AnomalyRepository', () => {
  it('reads back every field it wrote', async () => {
    const tenant = freshTenant();
    const record = anomalyRecord(tenant, 'a1', T0, {
      series: 'http.latency{route="/x"}',
      value: -3.25,
      score: 0.8125,
      severity: 'warning',
      detectors: ['spike', 'cusum'],
      context: { ts: [T0 - 2000, T0 - 1000, T0], values: [1.5, -2, 3e10] },
      explanation: 'p99 latency tripled after "deploy 42"\nsecond line',
      revision: 1,
      createdAt: T0 + 1234,
    });
    await anomalies.insertBatch([record], freshToken('seismo.anomalies'));

    const { tenantId: _tenant, retentionDays: _retention, ...stored } = record;
    expect(await anomalies.find(tenant, { limit: 10 })).toEqual([stored]);
  });

  it('reads an anomaly written again in another batch once, before and after the merge', async () => {
    const tenant = freshTenant();
    const record = anomalyRecord(tenant, 'replayed', T0);
    await anomalies.insertBatch([record], freshToken('seismo.anomalies'));
    await anomalies.insertBatch(
      [record, anomalyRecord(tenant, 'other', T0 + 1)],
      freshToken('seismo.anomalies'),
    );

    expect(await storage.count('anomalies', `tenant_id = '${tenant}'`)).toBe(3);
    expect((await anomalies.find(tenant, { limit: 10 })).map((a) => a.id)).toEqual(['other', 'replayed']);

    await storage.client.command({ query: 'OPTIMIZE TABLE anomalies FINAL' });
    expect(await storage.count('anomalies', `tenant_id = '${tenant}'`)).toBe(2);
    expect((await anomalies.find(tenant, { limit: 10 })).map((a) => a.id)).toEqual(['other', 'replayed']);
  });

  it('keeps the highest revision, so a replayed detection does not undo a triage', async () => {
    const tenant = freshTenant();
    const detected = anomalyRecord(tenant, 'x', T0);
    const triaged = { ...detected, revision: 1, explanation: 'disk full on db-3', createdAt: T0 + 60_000 };
    await anomalies.insertBatch([detected], freshToken('seismo.anomalies'));
    await anomalies.insertBatch([triaged], freshToken('seismo.anomalies'));
    await anomalies.insertBatch([{ ...detected, createdAt: T0 + 120_000 }], freshToken('seismo.anomalies'));

    const [found] = await anomalies.find(tenant, { limit: 10 });
    expect(found).toMatchObject({ revision: 1, explanation: 'disk full on db-3' });
    await storage.client.command({ query: 'OPTIMIZE TABLE anomalies FINAL' });
    expect(await anomalies.find(tenant, { limit: 10 })).toEqual([found]);
  });

  it('stores a batch written twice with the same token once', async () => {
    const tenant = freshTenant();
    const token = freshToken('seismo.anomalies');
    const batch = [anomalyRecord(tenant, 'a', T0), anomalyRecord(tenant, 'b', T0 + 1)];
    await anomalies.insertBatch(batch, token);
    await anomalies.insertBatch(batch, token);
    expect(await storage.count('anomalies', `tenant_id = '${tenant}'`)).toBe(2);
  });

  describe('find', () => {
    const tenant = parseTenantId('finder');
    const rows: AnomalyRecord[] = [
      anomalyRecord(tenant, 'cpu-1', T0, { series: 'cpu', score: 0.5 }),
      anomalyRecord(tenant, 'cpu-2', T0 + 1000, { series: 'cpu', score: 0.7 }),
      anomalyRecord(tenant, 'cpu-3', T0 + 2000, { series: 'cpu', score: 0.95 }),
      anomalyRecord(tenant, 'mem-1', T0 + 1500, { series: 'mem', score: 0.99 }),
    ];
    beforeAll(async () => {
      await anomalies.insertBatch(rows, freshToken('seismo.anomalies'));
    });
    const ids = async (query: Parameters<AnomalyRepository['find']>[1]) =>
      (await anomalies.find(tenant, query)).map((a) => a.id);

    it('returns the newest first, up to the limit', async () => {
      expect(await ids({ limit: 10 })).toEqual(['cpu-3', 'mem-1', 'cpu-2', 'cpu-1']);
      expect(await ids({ limit: 2 })).toEqual(['cpu-3', 'mem-1']);
    });

    it('filters by series and by the half-open time range [from, to)', async () => {
      expect(await ids({ series: 'cpu', limit: 10 })).toEqual(['cpu-3', 'cpu-2', 'cpu-1']);
      expect(await ids({ from: T0 + 1000, to: T0 + 2000, limit: 10 })).toEqual(['mem-1', 'cpu-2']);
      expect(await ids({ series: 'nope', limit: 10 })).toEqual([]);
    });

    it('includes an anomaly scoring exactly the minimum, at Float32 precision', async () => {
      expect(await ids({ minScore: 0.7, limit: 10 })).toEqual(['cpu-3', 'mem-1', 'cpu-2']);
      expect(await ids({ minScore: 0.7, series: 'cpu', from: T0, to: T0 + 1001, limit: 10 })).toEqual([
        'cpu-2',
      ]);
    });

    it.each<[string, Parameters<AnomalyRepository['find']>[1], string]>([
      ['a zero limit', { limit: 0 }, 'limit'],
      ['a huge limit', { limit: 10_001 }, 'limit'],
      ['a NaN score', { limit: 1, minScore: NaN }, 'minScore'],
      ['a fractional bound', { limit: 1, from: 0.5 }, 'from'],
      ['an empty series', { limit: 1, series: '' }, 'series'],
    ])('refuses %s, naming the argument', async (_, query, name) => {
      const error = await storageRejection(anomalies.find(tenant, query));
      expect(error.code).toBe(StorageExceptionCode.INVALID_QUERY);
      expect(error.message).toContain(name);
    });
  });

  it.each<[string, Partial<AnomalyRecord>, string]>([
    ['context arrays of different lengths', { context: { ts: [T0], values: [] } }, 'anomalies[0].context'],
    ['a NaN in the context', { context: { ts: [T0], values: [NaN] } }, 'anomalies[0].context.values[0]'],
    ['an empty detector name', { detectors: ['spike', ''] }, 'anomalies[0].detectors[1]'],
    ['a negative revision', { revision: -1 }, 'anomalies[0].revision'],
    ['an empty id', { id: '' }, 'anomalies[0].id'],
  ])('refuses a batch with %s, naming the field', async (_, fields, path) => {
    const tenant = freshTenant();
    const error = await storageRejection(
      anomalies.insertBatch(
        [{ ...anomalyRecord(tenant, 'a', T0), ...fields }],
        freshToken('seismo.anomalies'),
      ),
    );
    expect(error.code).toBe(StorageExceptionCode.INVALID_RECORD);
    expect(error.message).toContain(path);
    expect(await storage.count('anomalies', `tenant_id = '${tenant}'`)).toBe(0);
  });
});
