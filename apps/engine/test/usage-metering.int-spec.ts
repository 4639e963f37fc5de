import { encodePointBatch, PointBatchBuilder } from '@seismo/pipeline';
import { AnomalyRepository, HOUR_MS, parseTenantId, PointRepository, UsageRepository } from '@seismo/storage';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestStorage } from '../../../libs/storage/test/storage.harness';
import { BatchProcessor } from '../src/pipeline/batch.processor';
import { ClickHouseSink } from '../src/pipeline/clickhouse.sink';
import { EngineRunner } from '../src/pipeline/engine.runner';
import { InMemoryPointLog } from '../src/pipeline/in-memory-point.log';
import { InMemoryPointQueue } from '../src/pipeline/in-memory-point.queue';
import { PointQueueException, PointQueueExceptionCode } from '../src/pipeline/point-queue.exception';
import { UsageCommitter } from '../src/pipeline/usage.committer';

/*
 * The engine's metering, from the queue to usage_hourly, against a real embedded
 * ClickHouse: the usage of many batches shares one INSERT, which also records how far
 * each partition is counted, so a batch whose usage was stored before a crash took its
 * commit is not counted again when it is delivered again, even in a later hour.
 */

const T0 = Date.UTC(2031, 0, 1, 10, 59);
const PARTITION = 2;
const SOURCE = 'metering-spec';
const acme = parseTenantId('acme');

/** One message of `points` points of acme's series s0-s2, and one point refused at ingest. */
function message(first: number, points: number): Uint8Array {
  const builder = new PointBatchBuilder(acme);
  for (let i = first; i < first + points; i++) builder.add(`s${i % 3}`, T0 + i * 1000, 10 + (i % 5));
  return encodePointBatch(builder.build(1));
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe('engine metering (embedded ClickHouse)', () => {
  let storage: TestStorage;
  let usage: UsageRepository;
  let sink: ClickHouseSink;
  const logger = { log: jest.fn(), warn: jest.fn(), error: jest.fn() };

  beforeAll(async () => {
    storage = await TestStorage.start();
    usage = new UsageRepository(storage.connection);
    sink = new ClickHouseSink(
      new PointRepository(storage.connection),
      new AnomalyRepository(storage.connection),
      SOURCE,
    );
  });
  afterAll(() => storage.stop());

  const totals = () => usage.total(acme, T0 - 10 * HOUR_MS, T0 + 10 * HOUR_MS);
  const engine = (queue: InMemoryPointQueue, now: number) =>
    new EngineRunner(
      queue,
      new BatchProcessor({ retentionOf: () => ({ pointsDays: 7, anomaliesDays: 7 }), clock: () => now }),
      sink,
      { retryDelayMs: 5, logger, usage: new UsageCommitter(usage, SOURCE, { lingerMs: 20, logger }) },
    );

  it('counts each batch once across a crash between its usage and its commit, and new batches on top', async () => {
    const log = new InMemoryPointLog({ partitions: 4, maxPendingBytes: 1 << 20 });
    for (let m = 0; m < 4; m++) await log.append(PARTITION, message(m * 50, 50));

    // First life: the batches are written and their usage stored, and every commit is
    // lost, as when the process dies right before committing.
    const dying = new InMemoryPointQueue(log, { maxBatchMessages: 2, retryDelayMs: 5 });
    dying.commit = () =>
      Promise.reject(new PointQueueException(PointQueueExceptionCode.FENCED, 'the process died'));
    const first = engine(dying, T0);
    await first.start();
    await until(
      async () => (await usage.writtenThrough(SOURCE, PARTITION)) === 3,
      'offsets 0-3 were counted',
    );
    await first.stop();
    expect(log.committed(PARTITION)).toBe(-1);
    const counted = { points_ingested: 200, points_scored: 200, points_rejected: 4, active_series: 3 };
    expect(await totals()).toMatchObject(counted);

    // Second life, in the next hour: the same offsets are delivered again and written again
    // (ClickHouse drops the points by their tokens); their usage stays out.
    const second = engine(
      new InMemoryPointQueue(log, { maxBatchMessages: 2, retryDelayMs: 5 }),
      T0 + HOUR_MS,
    );
    await second.start();
    await until(() => log.committed(PARTITION) === 3, 'offsets 0-3 were committed');
    expect(await totals()).toMatchObject(counted);
    expect(await storage.count('points', "tenant_id = 'acme'")).toBe(200);

    // The next offsets are new work, counted in the hour they were scored.
    await log.append(PARTITION, message(200, 10));
    await log.append(PARTITION, message(210, 10));
    await until(() => log.committed(PARTITION) === 5, 'offsets 4-5 were committed');
    await second.stop();
    expect(await totals()).toMatchObject({ points_ingested: 220, points_rejected: 6, active_series: 3 });
    const hours = await usage.buckets(acme, {
      from: T0 - HOUR_MS,
      to: T0 + 2 * HOUR_MS,
      granularity: 'hour',
    });
    expect(hours.map(({ start, counts }) => [start, counts.points_ingested, counts.active_series])).toEqual([
      [T0 - 59 * 60_000, 200, 3],
      [T0 - 59 * 60_000 + HOUR_MS, 20, 3],
    ]);
    expect(await usage.writtenThrough(SOURCE, PARTITION)).toBe(5);
    expect(logger.warn).not.toHaveBeenCalledWith(expect.stringMatching(/straddle/));
  });
});
