import { setTimeout as sleep } from 'node:timers/promises';
import { AnomalyRepository } from '../src/anomaly.repository';
import { parseDedupToken } from '../src/dedup-token';
import { PointRepository } from '../src/point.repository';
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
