import { setTimeout as sleep } from 'node:timers/promises';
import { AnomalyRepository } from '../src/anomaly.repository';
import { parseDedupToken } from '../src/dedup-token';
import { PointRepository } from '../src/point.repository';
import { RetentionRepository } from '../src/retention.repository';
import { SeriesHourRepository } from '../src/series-hour.repository';
import { parseTenantId } from '../src/tenant-id';
import { anomalyRecord, DAY_MS, pointRecord, TestStorage } from './storage.harness';

// Retention is a TTL on each row, computed from the row's own retention_days: tenants
// with different retentions share the tables and each keeps its own.
let storage: TestStorage;
beforeAll(async () => {
  storage = await TestStorage.start();
});
afterAll(async () => {
  await storage.stop();
});

const brief = parseTenantId('brief'); // keeps 1 day
const patient = parseTenantId('patient'); // keeps 30 days

describe('per-row retention', () => {
  it("removes a row written past its retention at the next TTL merge, keeping another tenant's row as old", async () => {
    const threeDaysAgo = Date.now() - 3 * DAY_MS;
    await new PointRepository(storage.connection).insertBatch(
      [
        pointRecord(brief, 'cpu', threeDaysAgo, { retentionDays: 1 }),
        pointRecord(patient, 'cpu', threeDaysAgo, { retentionDays: 30 }),
      ],
      parseDedupToken('late-points'),
    );
    // The engine schedules a TTL merge for a part holding expired rows soon after it is
    // written; forcing one makes the outcome independent of that timing.
    await storage.client.command({ query: 'OPTIMIZE TABLE points FINAL' });
    expect(await storage.count('points', `tenant_id = '${brief}'`)).toBe(0);
    expect(await storage.count('points', `tenant_id = '${patient}'`)).toBe(1);
  });

  it('removes rows that expire after they were written once the TTL is applied, keeping the others', async () => {
    // Rows of the 1-day tenant expiring 3 s from now: stored when written, expired soon
    // after. The rows of the 30-day tenant, as old, have 29 days to go.
    const ts = Date.now() - DAY_MS + 3000;
    await new PointRepository(storage.connection).insertBatch(
      [
        pointRecord(brief, 'mem', ts, { retentionDays: 1 }),
        pointRecord(patient, 'mem', ts, { retentionDays: 30 }),
      ],
      parseDedupToken('expiring-points'),
    );
    await new AnomalyRepository(storage.connection).insertBatch(
      [
        anomalyRecord(brief, 'a', ts, { retentionDays: 1 }),
        anomalyRecord(patient, 'a', ts, { retentionDays: 30 }),
      ],
      parseDedupToken('expiring-anomalies'),
    );
    expect(await storage.count('points', `series = 'mem'`)).toBe(2);
    expect(await storage.count('anomalies')).toBe(2);

    await sleep(Math.max(0, ts + DAY_MS + 1000 - Date.now()));
    // Once a part holds expired rows the engine merges it by itself, but not at a moment
    // a test can wait for; both ways of forcing it must apply each row's own expiry.
    await storage.client.command({ query: 'OPTIMIZE TABLE points FINAL' });
    await storage.client.command({
      query: 'ALTER TABLE anomalies MATERIALIZE TTL SETTINGS mutations_sync = 2',
    });

    expect(await storage.count('points', `series = 'mem' AND tenant_id = '${brief}'`)).toBe(0);
    expect(await storage.count('points', `series = 'mem' AND tenant_id = '${patient}'`)).toBe(1);
    expect(await storage.count('anomalies', `tenant_id = '${brief}'`)).toBe(0);
    expect(await storage.count('anomalies', `tenant_id = '${patient}'`)).toBe(1);
  });
});

// A tenant's retention changed after its rows were stored: the change reaches them.
describe('RetentionRepository', () => {
  it("rewrites a tenant's rows to its new retention, dropping at once what the shorter one no longer keeps", async () => {
    const shrinking = parseTenantId('shrinking');
    const other = parseTenantId('other');
    const now = Date.now();
    const hour = (t: number) => t - (t % 3_600_000);
    await new PointRepository(storage.connection).insertBatch(
      [10, 3, 1].flatMap((days) => [
        pointRecord(shrinking, 'disk', now - days * DAY_MS, { retentionDays: 30, value: days }),
        pointRecord(other, 'disk', now - days * DAY_MS, { retentionDays: 30, value: days }),
      ]),
      parseDedupToken('retention-points'),
    );
    await new AnomalyRepository(storage.connection).insertBatch(
      [200, 40, 1].flatMap((days) => [
        anomalyRecord(shrinking, `a${days}`, now - days * DAY_MS, { retentionDays: 395 }),
        anomalyRecord(other, `a${days}`, now - days * DAY_MS, { retentionDays: 395 }),
      ]),
      parseDedupToken('retention-anomalies'),
    );
    await new SeriesHourRepository(storage.connection).insertBatch(
      [200, 40, 1].map((days) => ({
        tenantId: shrinking,
        series: 'disk',
        hour: hour(now - days * DAY_MS),
        count: 1,
        sum: days,
        min: days,
        max: days,
        retentionDays: 395,
      })),
      parseDedupToken('retention-hours'),
    );

    await new RetentionRepository(storage.connection).apply(shrinking, { pointsDays: 5, anomaliesDays: 30 });

    // No OPTIMIZE: the mutation itself applied the TTL.
    const values = async (table: string, column: string, tenant: string) =>
      (
        await storage.rows<{ v: number }>(
          `SELECT ${column} AS v FROM ${table} WHERE tenant_id = '${tenant}' ORDER BY v`,
        )
      ).map((r) => Number(r.v));
    expect(await values('points', 'value', shrinking)).toEqual([1, 3]);
    expect(await values('anomalies', 'toUnixTimestamp64Milli(ts)', shrinking)).toEqual([now - DAY_MS]);
    expect(await values('series_hourly', 'min', shrinking)).toEqual([1]);
    // Another tenant's rows keep their retention.
    expect(await values('points', 'value', other)).toEqual([1, 3, 10]);
    expect(await storage.count('anomalies', `tenant_id = '${other}'`)).toBe(3);

    // Longer again: what remains is kept longer; what was dropped stays dropped.
    await new RetentionRepository(storage.connection).apply(shrinking, {
      pointsDays: 60,
      anomaliesDays: 395,
    });
    expect(await values('points', 'retention_days', shrinking)).toEqual([60, 60]);
    expect(await values('points', 'value', shrinking)).toEqual([1, 3]);
  });
});
