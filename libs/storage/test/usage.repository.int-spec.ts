import { emptyUsage, HOUR_MS, seriesHash, type UsageRecord } from '../src/usage';
import { UsageRepository } from '../src/usage.repository';
import { freshTenant, freshToken, storageRejection, TestStorage } from './storage.harness';

const H0 = Date.UTC(2031, 2, 4, 10); // a Tuesday, 10:00 UTC

function usage(
  tenant: ReturnType<typeof freshTenant>,
  hour: number,
  fields: Partial<UsageRecord>,
): UsageRecord {
  return { ...emptyUsage(tenant, hour), ...fields };
}

describe('UsageRepository (embedded ClickHouse)', () => {
  let storage: TestStorage;
  let repo: UsageRepository;

  beforeAll(async () => {
    storage = await TestStorage.start();
    repo = new UsageRepository(storage.connection);
  });
  afterAll(() => storage.stop());

  it('adds the rows of a tenant and hour, and unites their series', async () => {
    const tenant = freshTenant();
    const [a, b, c] = ['cpu', 'mem', 'disk'].map(seriesHash);
    await repo.insertBatch(
      [
        usage(tenant, H0, {
          pointsIngested: 10,
          pointsScored: 9,
          pointsRejected: 1,
          anomalies: 2,
          seriesHashes: [a, b],
        }),
      ],
      freshToken('usage'),
    );
    await repo.insertBatch(
      [
        usage(tenant, H0, {
          pointsIngested: 5,
          pointsScored: 5,
          seriesHashes: [b, c],
          llmTokensIn: 7,
          llmTokensOut: 3,
        }),
      ],
      freshToken('usage'),
    );
    const buckets = await repo.buckets(tenant, { from: H0, to: H0 + HOUR_MS, granularity: 'hour' });
    expect(buckets).toEqual([
      {
        start: H0,
        counts: {
          points_ingested: 15,
          points_scored: 14,
          points_rejected: 1,
          active_series: 3,
          anomalies: 2,
          alerts_delivered: 0,
          llm_tokens_in: 7,
          llm_tokens_out: 3,
        },
      },
    ]);
  });

  it('stores a batch written again under the same token once: a replay does not double a count', async () => {
    const tenant = freshTenant();
    const token = freshToken('usage');
    const rows = [
      usage(tenant, H0, { pointsIngested: 100, pointsScored: 100, seriesHashes: [seriesHash('cpu')] }),
    ];
    await repo.insertBatch(rows, token);
    await repo.insertBatch(rows, token);
    await storage.client.command({ query: 'OPTIMIZE TABLE usage_hourly FINAL' });
    await repo.insertBatch(rows, token);
    const [bucket] = await repo.buckets(tenant, { from: H0, to: H0 + HOUR_MS, granularity: 'hour' });
    expect(bucket.counts.points_ingested).toBe(100);
    expect(bucket.counts.active_series).toBe(1);
  });

  it('sums hours into UTC days, counting a series active in several hours once a day', async () => {
    const tenant = freshTenant();
    const cpu = seriesHash('cpu');
    const day = Date.UTC(2031, 2, 4);
    await repo.insertBatch(
      [
        usage(tenant, day + 1 * HOUR_MS, { pointsIngested: 1, seriesHashes: [cpu] }),
        usage(tenant, day + 23 * HOUR_MS, { pointsIngested: 2, seriesHashes: [cpu, seriesHash('mem')] }),
        usage(tenant, day + 24 * HOUR_MS, { pointsIngested: 4, seriesHashes: [cpu] }),
      ],
      freshToken('usage'),
    );
    const days = await repo.buckets(tenant, {
      from: day + 5 * HOUR_MS,
      to: day + 48 * HOUR_MS,
      granularity: 'day',
    });
    expect(days.map((d) => [d.start, d.counts.points_ingested, d.counts.active_series])).toEqual([
      [day, 3, 2],
      [day + 24 * HOUR_MS, 4, 1],
    ]);
    const hours = await repo.buckets(tenant, { from: day, to: day + 24 * HOUR_MS, granularity: 'hour' });
    expect(hours.map((h) => [h.start, h.counts.points_ingested])).toEqual([
      [day + HOUR_MS, 1],
      [day + 23 * HOUR_MS, 2],
    ]);
  });

  it("never reads another tenant's usage", async () => {
    const mine = freshTenant();
    const theirs = freshTenant();
    await repo.insertBatch([usage(theirs, H0, { pointsIngested: 9 })], freshToken('usage'));
    expect(await repo.buckets(mine, { from: H0, to: H0 + HOUR_MS, granularity: 'hour' })).toEqual([]);
    expect(await repo.hourly([mine], H0 + HOUR_MS)).toEqual([]);
  });

  it('lists the hourly usage of the tenants named, before an instant', async () => {
    const a = freshTenant();
    const b = freshTenant();
    await repo.insertBatch(
      [
        usage(a, H0, { pointsIngested: 1 }),
        usage(a, H0 + HOUR_MS, { pointsIngested: 2 }),
        usage(b, H0, { anomalies: 3 }),
      ],
      freshToken('usage'),
    );
    const rows = await repo.hourly([a, b], H0 + HOUR_MS);
    expect(rows.map((r) => [r.tenantId, r.hour, r.counts.points_ingested, r.counts.anomalies])).toEqual([
      [a, H0, 1, 0],
      [b, H0, 0, 3],
    ]);
  });

  it("keeps how far each partition is counted with the counts, out of every tenant's reads", async () => {
    const tenant = freshTenant();
    const source = `seismo.points.${tenant}`;
    expect(await repo.writtenThrough(source, 0)).toBe(-1);
    const mark = (partition: number, offset: number) => ({ source, partition, offset });
    await repo.insertBatch([usage(tenant, H0, { pointsIngested: 4 })], freshToken('usage'), [
      mark(0, 9),
      mark(1, 3),
      mark(2, 0),
    ]);
    await repo.insertBatch([usage(tenant, H0, { pointsIngested: 1 })], freshToken('usage'), [mark(1, 7)]);
    // An INSERT repeated under its token (a retry of one that landed) changes neither counts nor marks.
    const token = freshToken('usage');
    await repo.insertBatch([], token, [mark(0, 12)]);
    await repo.insertBatch([usage(tenant, H0, { pointsIngested: 100 })], token, [mark(0, 20)]);
    expect([await repo.writtenThrough(source, 0), await repo.writtenThrough(source, 1)]).toEqual([12, 7]);
    // An offset of 0 is a mark too (maxMap keeps zero values).
    expect(await repo.writtenThrough(source, 2)).toBe(0);
    expect(await repo.writtenThrough(source, 3)).toBe(-1);
    expect(await repo.writtenThrough('another-log', 0)).toBe(-1);
    await storage.client.command({ query: 'OPTIMIZE TABLE usage_hourly FINAL' });
    expect(await repo.writtenThrough(source, 0)).toBe(12);
    expect((await repo.total(tenant, 0, H0 + HOUR_MS)).points_ingested).toBe(5);
    expect(await repo.hourly([tenant], H0 + HOUR_MS)).toHaveLength(1);
  });

  it('refuses a mark that is no offset, naming the field', async () => {
    const error = await storageRejection(
      repo.insertBatch([], freshToken('usage'), [{ source: 'seismo.points', partition: 0, offset: -1 }]),
    );
    expect(error.message).toMatch(/usage mark\[0\]\.offset/);
  });

  it('refuses a row whose hour is not the start of an hour, naming the field', async () => {
    const error = await storageRejection(
      repo.insertBatch([usage(freshTenant(), H0 + 1, {})], freshToken('usage')),
    );
    expect(error.message).toMatch(/usage\[0\]\.hour/);
  });

  it('refuses an empty or too long range', async () => {
    const tenant = freshTenant();
    await storageRejection(repo.buckets(tenant, { from: H0, to: H0, granularity: 'hour' }));
    const error = await storageRejection(
      repo.buckets(tenant, { from: H0, to: H0 + 100 * 24 * HOUR_MS, granularity: 'hour' }),
    );
    expect(error.message).toMatch(/more than 2232 hours/);
  });
});
