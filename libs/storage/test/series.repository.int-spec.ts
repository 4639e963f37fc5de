import { parseDedupToken } from '../src/dedup-token';
import { PointRepository } from '../src/point.repository';
import { SeriesRepository } from '../src/series.repository';
import { parseTenantId } from '../src/tenant-id';
import { pointRecord, TestStorage } from './storage.harness';

let storage: TestStorage;
beforeAll(async () => {
  storage = await TestStorage.start();
});
afterAll(async () => {
  await storage.stop();
});

const T0 = Date.UTC(2031, 0, 1);

describe('SeriesRepository', () => {
  it("lists a tenant's series by name, with first and last point and count", async () => {
    const tenant = parseTenantId('acme');
    await new PointRepository(storage.connection).insertBatch(
      [
        pointRecord(tenant, 'mem', T0 + 5000),
        pointRecord(tenant, 'cpu', T0 + 2000),
        pointRecord(tenant, 'cpu', T0),
        pointRecord(tenant, 'cpu', T0 + 1000),
      ],
      parseDedupToken('t1'),
    );
    expect(await new SeriesRepository(storage.connection).list(tenant)).toEqual([
      { series: 'cpu', firstSeen: T0, lastSeen: T0 + 2000, points: 3 },
      { series: 'mem', firstSeen: T0 + 5000, lastSeen: T0 + 5000, points: 1 },
    ]);
  });

  it('lists nothing for a tenant without points', async () => {
    expect(await new SeriesRepository(storage.connection).list(parseTenantId('nobody'))).toEqual([]);
  });
});
