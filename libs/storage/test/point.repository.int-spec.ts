import { type ClickHouseAccess } from '../src/clickhouse.connection';
import { ExecBatchWriter } from '../src/exec-batch.writer';
import { type PointRecord } from '../src/point';
import { PointRepository } from '../src/point.repository';
import { StorageExceptionCode } from '../src/storage.exception';
import {
  DAY_MS,
  pointRecord,
  TestStorage,
  freshTenant,
  freshToken,
  storageRejection,
} from './storage.harness';

let storage: TestStorage;
let points: PointRepository;
beforeAll(async () => {
  storage = await TestStorage.start();
  points = new PointRepository(storage.connection);
});
afterAll(async () => {
  await storage.stop();
});

const T0 = Date.UTC(2031, 0, 1);

// Every write goes through the embedded engine's own writer in production (RowBinary
// through a spooled file), and through ExecBatchWriter (JSONCompactEachRow) against a
// server; chdb runs both, so both are held to the same tests.
describe.each<[string, () => ClickHouseAccess]>([
  ['chdb RowBinary (embedded)', () => storage.connection],
  ['client.exec (server)', () => ({ client: storage.client, writer: new ExecBatchWriter(storage.client) })],
])('PointRepository writing through %s', (_, access) => {
  let repository: PointRepository;
  beforeAll(() => {
    repository = new PointRepository(access());
  });

  it('reads back what it wrote, in time order, over the half-open range [from, to)', async () => {
    const tenant = freshTenant();
    const written = [
      pointRecord(tenant, 'cpu', T0 + 2000, { value: -0.1, score: 1 / 3, flags: 3 }),
      pointRecord(tenant, 'cpu', T0, { value: 1.5e300, score: 0.7, flags: 0 }),
      pointRecord(tenant, 'cpu', T0 + 1001, { value: 5e-324, score: 1, flags: 255 }),
      pointRecord(tenant, 'cpu', T0 + 3000),
      pointRecord(tenant, 'mem', T0 + 1000),
    ];
    await repository.insertBatch(written, freshToken('seismo.points'));

    const range = await repository.range(tenant, 'cpu', T0, T0 + 3000, 100);
    // A score is a Float32: it reads back as the shortest decimal naming that Float32,
    // which is the number written whenever it had few enough digits (0.7, not 0.69999...).
    expect(range).toEqual({
      resolution: 'raw',
      points: [
        { ts: T0, value: 1.5e300, score: 0.7, flags: 0 },
        { ts: T0 + 1001, value: 5e-324, score: 1, flags: 255 },
        { ts: T0 + 2000, value: -0.1, score: expect.closeTo(1 / 3, 7), flags: 3 },
      ],
    });
  });

  it('keeps series names with quotes, commas, newlines and non-ASCII text intact', async () => {
    const tenant = freshTenant();
    const names = [
      'a"b',
      "it's",
      'x,y',
      'line\nbreak',
      'tab\there',
      'back\\slash',
      'température ☃ 𝄞',
      '{"json":1}',
      // Past 127 UTF-8 bytes a RowBinary length takes two bytes.
      `host.${'long-name.'.repeat(20)}cpu{region="eu-west-1"}`,
      `${'é'.repeat(42)}x`,
    ];
    await repository.insertBatch(
      names.map((series, i) => pointRecord(tenant, series, T0 + i)),
      freshToken('seismo.points'),
    );
    for (const [i, series] of names.entries()) {
      const range = await repository.range(tenant, series, T0, T0 + 100, 10);
      expect(range.resolution === 'raw' && range.points.map((p) => p.ts)).toEqual([T0 + i]);
    }
  });

  it('stores a batch written twice with the same token once', async () => {
    const tenant = freshTenant();
    const batch = [pointRecord(tenant, 'cpu', T0), pointRecord(tenant, 'cpu', T0 + 1000)];
    const token = freshToken('seismo.points');
    await repository.insertBatch(batch, token);
    await repository.insertBatch(batch, token);
    expect(await storage.count('points', `tenant_id = '${tenant}'`)).toBe(2);

    // The token, not the content, is the batch's identity: the same rows under another
    // token are another batch.
    await repository.insertBatch(batch, freshToken('seismo.points'));
    expect(await storage.count('points', `tenant_id = '${tenant}'`)).toBe(4);
  });

  it('deduplicates a batch that spans partitions (months) as a whole', async () => {
    const tenant = freshTenant();
    const batch = [
      pointRecord(tenant, 'cpu', Date.UTC(2031, 0, 31, 23, 59)),
      pointRecord(tenant, 'cpu', Date.UTC(2031, 1, 1, 0, 1)),
      pointRecord(tenant, 'cpu', Date.UTC(2031, 2, 1)),
    ];
    const token = freshToken('seismo.points');
    await repository.insertBatch(batch, token);
    await repository.insertBatch(batch, token);
    expect(await storage.count('points', `tenant_id = '${tenant}'`)).toBe(3);
  });

  it("does not leave its token on the engine's session for the next insert", async () => {
    await repository.insertBatch([pointRecord(freshTenant(), 'cpu', T0)], freshToken('seismo.points'));
    expect(await storage.rows("SELECT getSetting('insert_deduplication_token') AS token")).toEqual([
      { token: '' },
    ]);
  });
});

describe('PointRepository', () => {
  it('stores instants across the whole DateTime64 range, before 1970 included', async () => {
    const tenant = freshTenant();
    const instants = [
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      Date.UTC(1900, 0, 1),
      Date.UTC(2299, 11, 31, 23, 59, 59, 999),
    ];
    // The longest retention, 65535 days, keeps a point of 1900 until 2079.
    await points.insertBatch(
      instants.map((ts) => pointRecord(tenant, 'old', ts, { retentionDays: 65535 })),
      freshToken('seismo.points'),
    );
    const range = await points.range(tenant, 'old', Date.UTC(1900, 0, 1), Date.UTC(2300, 0, 1), 10);
    expect(range.resolution === 'raw' && range.points.map((p) => p.ts)).toEqual(
      [...instants].sort((a, b) => a - b),
    );
  });

  it('downsamples a long range into at most maxPoints buckets that keep the extremes', async () => {
    const tenant = freshTenant();
    // 30 days of one point a minute: 43,200 points.
    const rows: PointRecord[] = [];
    for (let i = 0; i < 43_200; i++) {
      rows.push(pointRecord(tenant, 'cpu', T0 + i * 60_000, { value: i % 10, score: 0.1 }));
    }
    rows[20_000] = { ...rows[20_000], value: 1000, score: 0.99, flags: 4 };
    rows[30_000] = { ...rows[30_000], value: -1000 };
    await points.insertBatch(rows, freshToken('seismo.points'));

    const range = await points.range(tenant, 'cpu', T0, T0 + 30 * DAY_MS, 1000);
    if (range.resolution !== 'bucketed') throw new Error(`expected buckets, got ${range.resolution}`);
    expect(range.bucketMs).toBe((30 * DAY_MS) / 1000);
    expect(range.buckets.length).toBeLessThanOrEqual(1000);
    expect(range.buckets.length).toBeGreaterThan(990);
    expect(range.buckets.reduce((n, b) => n + b.count, 0)).toBe(43_200);
    expect(Math.max(...range.buckets.map((b) => b.max))).toBe(1000);
    expect(Math.min(...range.buckets.map((b) => b.min))).toBe(-1000);

    const spike = range.buckets.find((b) => b.max === 1000)!;
    expect(spike.ts).toBeLessThanOrEqual(rows[20_000].ts);
    expect(spike.ts + range.bucketMs).toBeGreaterThan(rows[20_000].ts);
    expect(spike.maxScore).toBeCloseTo(0.99, 6);
    expect(spike.flags).toBe(4);
    expect(range.buckets.every((b, i) => i === 0 || b.ts > range.buckets[i - 1].ts)).toBe(true);
  });

  it('returns raw points when the range holds exactly maxPoints, buckets from one more', async () => {
    const tenant = freshTenant();
    await points.insertBatch(
      Array.from({ length: 11 }, (_, i) => pointRecord(tenant, 'cpu', T0 + i * 1000)),
      freshToken('seismo.points'),
    );
    expect((await points.range(tenant, 'cpu', T0, T0 + 10_000, 10)).resolution).toBe('raw');
    expect((await points.range(tenant, 'cpu', T0, T0 + 11_000, 10)).resolution).toBe('bucketed');
  });

  it.each<[string, Partial<PointRecord>, string]>([
    ['a NaN value', { value: NaN }, 'points[1].value is NaN'],
    ['an infinite score', { score: Infinity }, 'points[1].score is Infinity'],
    ['a fractional timestamp', { ts: T0 + 0.5 }, 'points[1].ts'],
    ['a timestamp past 2299', { ts: Date.UTC(2300, 0, 1) }, 'points[1].ts'],
    ['flags over 255', { flags: 256 }, 'points[1].flags is 256'],
    ['no retention', { retentionDays: 0 }, 'points[1].retentionDays is 0'],
    ['an empty series', { series: '' }, 'points[1].series'],
  ])(
    'refuses a batch with %s, naming the row and field, and writes none of it',
    async (_, fields, message) => {
      const tenant = freshTenant();
      const batch = [pointRecord(tenant, 'cpu', T0), { ...pointRecord(tenant, 'cpu', T0 + 1), ...fields }];
      const error = await storageRejection(points.insertBatch(batch, freshToken('seismo.points')));
      expect(error.code).toBe(StorageExceptionCode.INVALID_RECORD);
      expect(error.message).toContain(message);
      expect(await storage.count('points', `tenant_id = '${tenant}'`)).toBe(0);
    },
  );

  it.each<[string, [number, number, number], string]>([
    ['an empty range', [T0, T0, 10], 'from'],
    ['a reversed range', [T0 + 1, T0, 10], 'from'],
    ['a fractional bound', [T0 + 0.5, T0 + 10, 10], 'from'],
    ['no points', [T0, T0 + 10, 0], 'maxPoints'],
    ['too many points', [T0, T0 + 10, 100_001], 'maxPoints'],
  ])('refuses %s, naming the argument', async (_, [from, to, max], name) => {
    const error = await storageRejection(points.range(freshTenant(), 'cpu', from, to, max));
    expect(error.code).toBe(StorageExceptionCode.INVALID_QUERY);
    expect(error.message).toContain(name);
  });

  describe('window', () => {
    const AT = T0 + DAY_MS;

    it('reads the first point of each bucket of the span before `at`, then the point at `at`', async () => {
      const tenant = freshTenant();
      await points.insertBatch(
        [
          // Before the span, after `at`, another series, another tenant: none of them.
          pointRecord(tenant, 'cpu', AT - 100_001, { value: 1e6 }),
          pointRecord(tenant, 'cpu', AT + 1, { value: 1e6 }),
          pointRecord(tenant, 'mem', AT - 50_000, { value: 1e6 }),
          pointRecord(freshTenant(), 'cpu', AT - 50_000, { value: 1e6 }),
          // Spans [AT - 100 s, AT) in ten 10-s buckets: the first holds three points, written out of order.
          pointRecord(tenant, 'cpu', AT - 95_000, { value: 2 }),
          pointRecord(tenant, 'cpu', AT - 100_000, { value: 1 }),
          pointRecord(tenant, 'cpu', AT - 90_001, { value: 6 }),
          pointRecord(tenant, 'cpu', AT - 50_000, { value: 7 }),
          // The last bucket's point and the anomalous one, each alone.
          pointRecord(tenant, 'cpu', AT - 1, { value: 8 }),
          pointRecord(tenant, 'cpu', AT, { value: 400 }),
        ],
        freshToken('seismo.points'),
      );
      expect(await points.window(tenant, 'cpu', AT, 100_000, 10)).toEqual([
        { ts: AT - 100_000, value: 1 },
        { ts: AT - 50_000, value: 7 },
        { ts: AT - 1, value: 8 },
        { ts: AT, value: 400 },
      ]);
    });

    it('ends before `at` when the point itself is not stored yet, and is empty for a series without points', async () => {
      const tenant = freshTenant();
      await points.insertBatch(
        [pointRecord(tenant, 'cpu', AT - 1000, { value: 5 })],
        freshToken('seismo.points'),
      );
      expect(await points.window(tenant, 'cpu', AT, 60_000, 6)).toEqual([{ ts: AT - 1000, value: 5 }]);
      expect(await points.window(tenant, 'disk', AT, 60_000, 6)).toEqual([]);
    });

    it.each<[string, [number, number, number], string]>([
      ['a fractional `at`', [AT + 0.5, 1000, 10], 'at is'],
      ['a span reaching before the DateTime64 range', [Date.UTC(1900, 0, 1), 1000, 10], 'at - spanMs'],
      ['no span', [AT, 0, 10], 'spanMs'],
      ['no buckets', [AT, 1000, 0], 'buckets'],
      ['too many buckets', [AT, 1000, 100_001], 'buckets'],
    ])('refuses %s, naming the argument', async (_, [at, span, buckets], name) => {
      const error = await storageRejection(points.window(freshTenant(), 'cpu', at, span, buckets));
      expect(error.code).toBe(StorageExceptionCode.INVALID_QUERY);
      expect(error.message).toContain(name);
    });
  });
});
