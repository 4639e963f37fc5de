import { AnomalyRepository } from '../src/anomaly.repository';
import { parseDedupToken } from '../src/dedup-token';
import { PointRepository } from '../src/point.repository';
import { SeriesRepository } from '../src/series.repository';
import { parseTenantId, type TenantId } from '../src/tenant-id';
import { anomalyRecord, pointRecord, TestStorage } from './storage.harness';

// Two tenants with the same series names and the same anomaly ids, written in the same
// batches: every read must still return only the caller's own rows.
let storage: TestStorage;
const alpha = parseTenantId('alpha');
const beta = parseTenantId('beta');
const T0 = Date.UTC(2031, 0, 1);

beforeAll(async () => {
  storage = await TestStorage.start();
  const points = new PointRepository(storage.connection);
  const anomalies = new AnomalyRepository(storage.connection);
  await points.insertBatch(
    [
      pointRecord(alpha, 'cpu', T0, { value: 1 }),
      pointRecord(beta, 'cpu', T0, { value: 2 }),
      pointRecord(beta, 'cpu', T0 + 1000, { value: 2 }),
      pointRecord(beta, 'beta-only', T0, { value: 2 }),
    ],
    parseDedupToken('mixed-points'),
  );
  await anomalies.insertBatch(
    [anomalyRecord(alpha, 'same-id', T0, { value: 1 }), anomalyRecord(beta, 'same-id', T0, { value: 2 })],
    parseDedupToken('mixed-anomalies'),
  );
});
afterAll(async () => {
  await storage.stop();
});

describe.each<[string, TenantId, number]>([
  ['alpha', alpha, 1],
  ['beta', beta, 2],
])('tenant %s', (_, tenant, value) => {
  it('reads only its own points', async () => {
    const range = await new PointRepository(storage.connection).range(tenant, 'cpu', T0, T0 + 10_000, 100);
    if (range.resolution !== 'raw') throw new Error('expected raw points');
    expect(range.points.length).toBeGreaterThan(0);
    expect(range.points.every((p) => p.value === value)).toBe(true);
  });

  it('reads only its own anomalies, even under an id another tenant also has', async () => {
    const found = await new AnomalyRepository(storage.connection).find(tenant, { limit: 100 });
    expect(found.map((a) => [a.id, a.value])).toEqual([['same-id', value]]);
  });

  it('lists only its own series', async () => {
    const series = await new SeriesRepository(storage.connection).list(tenant);
    expect(series.map((s) => s.series)).toEqual(tenant === beta ? ['beta-only', 'cpu'] : ['cpu']);
    expect(series.find((s) => s.series === 'cpu')?.points).toBe(tenant === beta ? 2 : 1);
  });
});

it('cannot read anything as a tenant with no rows', async () => {
  const nobody = parseTenantId('gamma');
  expect(await new PointRepository(storage.connection).range(nobody, 'cpu', T0, T0 + 10_000, 100)).toEqual({
    resolution: 'raw',
    points: [],
  });
  expect(await new AnomalyRepository(storage.connection).find(nobody, { limit: 100 })).toEqual([]);
  expect(await new SeriesRepository(storage.connection).list(nobody)).toEqual([]);
});
