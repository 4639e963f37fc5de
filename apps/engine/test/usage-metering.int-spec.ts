import { encodePointBatch, PointBatchBuilder } from '@seismo/pipeline';
import { AnomalyRepository, HOUR_MS, parseTenantId, PointRepository, UsageRepository } from '@seismo/storage';
import { TestStorage } from '../../../libs/storage/test/storage.harness';
import { BatchProcessor } from '../src/pipeline/batch.processor';
import { ClickHouseSink } from '../src/pipeline/clickhouse.sink';
import { type QueueBatch } from '../src/pipeline/point-queue';

/*
 * The engine's metering, from a queue batch to usage_hourly, against a real embedded
 * ClickHouse: counts ride in the batch's write under its dedup token, so a batch written
 * again (the runner's retry) or processed again after a crash and written under the same
 * offsets (a replay) adds nothing, even when the replay happens in a later hour.
 */

const T0 = Date.UTC(2031, 0, 1, 10, 59);
const acme = parseTenantId('acme');

function batch(firstOffset: number, messages: number, pointsEach: number): QueueBatch {
  return {
    partition: 2,
    messages: Array.from({ length: messages }, (_, m) => {
      const builder = new PointBatchBuilder(acme);
      for (let i = 0; i < pointsEach; i++)
        builder.add(`s${i % 3}`, T0 + (m * pointsEach + i) * 1000, 10 + (i % 5));
      return { offset: firstOffset + m, value: encodePointBatch(builder.build(1)) };
    }),
  };
}

describe('engine metering (embedded ClickHouse)', () => {
  let storage: TestStorage;
  let usage: UsageRepository;
  let sink: ClickHouseSink;

  beforeAll(async () => {
    storage = await TestStorage.start();
    usage = new UsageRepository(storage.connection);
    sink = new ClickHouseSink(
      new PointRepository(storage.connection),
      new AnomalyRepository(storage.connection),
      usage,
      'metering-spec',
    );
  });
  afterAll(() => storage.stop());

  const totals = () => usage.total(acme, T0 - 10 * HOUR_MS, T0 + 10 * HOUR_MS);

  it('counts a batch once however often it is written or replayed, and a new batch on top', async () => {
    const first = new BatchProcessor({
      retentionOf: () => ({ pointsDays: 7, anomaliesDays: 7 }),
      clock: () => T0,
    });
    const processed = first.process(batch(0, 4, 50));
    await sink.write(processed);
    await sink.write(processed); // the runner's retry after a write it could not confirm
    expect(await totals()).toMatchObject({
      points_ingested: 200,
      points_scored: 200,
      points_rejected: 4,
      active_series: 3,
    });

    // A crash before the commit: a new engine processes the same offsets again, now in the
    // next hour. Same offsets, same token: ClickHouse drops the write, counts stay.
    const after = new BatchProcessor({
      retentionOf: () => ({ pointsDays: 7, anomaliesDays: 7 }),
      clock: () => T0 + HOUR_MS,
    });
    const replayed = after.process(batch(0, 4, 50));
    expect(replayed.usage[0].hour).toBe(T0 - 59 * 60_000 + HOUR_MS);
    await sink.write(replayed);
    const [hour] = await usage.buckets(acme, {
      from: T0 - HOUR_MS,
      to: T0 + 2 * HOUR_MS,
      granularity: 'hour',
    });
    expect(hour).toMatchObject({ start: T0 - 59 * 60_000 });
    expect(
      (await usage.buckets(acme, { from: T0 - HOUR_MS, to: T0 + 2 * HOUR_MS, granularity: 'hour' })).length,
    ).toBe(1);
    expect((await totals()).points_ingested).toBe(200);

    // The next offsets are new work.
    await sink.write(after.process(batch(4, 2, 10)));
    expect(await totals()).toMatchObject({ points_ingested: 220, points_rejected: 6, active_series: 3 });
  });
});
