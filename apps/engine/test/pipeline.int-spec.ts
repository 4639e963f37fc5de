import { encodePointBatch, partitionOf, PointBatchBuilder } from '@seismo/pipeline';
import { AnomalyRepository, parseTenantId, PointRepository } from '@seismo/storage';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestStorage } from '../../../libs/storage/test/storage.harness';
import { BatchProcessor } from '../src/pipeline/batch.processor';
import { ClickHouseSink } from '../src/pipeline/clickhouse.sink';
import { EngineRunner } from '../src/pipeline/engine.runner';
import { InMemoryPointLog } from '../src/pipeline/in-memory-point.log';
import { InMemoryPointQueue } from '../src/pipeline/in-memory-point.queue';
import { type ProcessedBatch } from '../src/pipeline/processed-batch';
import { type BatchSink } from '../src/pipeline/sink';

const PARTITIONS = 4;
const T0 = Date.UTC(2031, 0, 1);
const MINUTE = 60_000;
const POINTS = 400;
const PER_MESSAGE = 50;
const SPIKE = 300;
const acme = parseTenantId('acme');
const globex = parseTenantId('globex');

/** A steady, slightly noisy metric; `spike` adds one outlier at point SPIKE. */
function metric(i: number, spike: boolean): number {
  return 10 + Math.sin(i / 8) + ((i * 7919) % 101) / 500 + (spike && i === SPIKE ? 25 : 0);
}

/** Stands for a process that dies after its write landed and before it committed. */
class CrashingBeforeCommit implements BatchSink {
  readonly writes = new Map<number, number>();
  constructor(private readonly inner: BatchSink) {}

  async write(batch: ProcessedBatch): Promise<void> {
    await this.inner.write(batch);
    this.writes.set(batch.partition, (this.writes.get(batch.partition) ?? 0) + 1);
    throw new Error('simulated crash between the write and the commit');
  }
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let waited = 0; waited < 20_000; waited += 10) {
    if (predicate()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting until ${what}`);
}

let storage: TestStorage;
beforeAll(async () => {
  storage = await TestStorage.start();
});
afterAll(async () => {
  await storage.stop();
});

describe('the embedded pipeline against ClickHouse', () => {
  it('stores every point and one anomaly for the spike, and a replay after a crash doubles nothing', async () => {
    const log = new InMemoryPointLog({ partitions: PARTITIONS, maxPendingBytes: 1 << 20 });
    // Two tenants with a series of the same name; only acme's has the spike.
    for (const tenant of [acme, globex]) {
      const partition = partitionOf(tenant, 'cpu', PARTITIONS);
      for (let from = 0; from < POINTS; from += PER_MESSAGE) {
        const builder = new PointBatchBuilder(tenant);
        for (let i = from; i < from + PER_MESSAGE; i++)
          builder.add('cpu', T0 + i * MINUTE, metric(i, tenant === acme));
        await log.append(partition, encodePointBatch(builder.build()));
      }
    }

    const points = new PointRepository(storage.connection);
    const anomalies = new AnomalyRepository(storage.connection);
    const sink = new ClickHouseSink(points, anomalies, 'embedded');
    const logger = { log: jest.fn(), warn: jest.fn(), error: jest.fn() };
    const engine = (batchSink: BatchSink) => {
      const queue = new InMemoryPointQueue(log, { maxBatchMessages: 16 });
      const processor = new BatchProcessor({
        retentionOf: () => ({ pointsDays: 65535, anomaliesDays: 65535 }),
      });
      return new EngineRunner(queue, processor, batchSink, { retryDelayMs: 5, logger });
    };

    // First life: every batch is written, and written again by the sink retry, but never committed.
    const crashing = new CrashingBeforeCommit(sink);
    const first = engine(crashing);
    await first.start();
    const used = new Set([acme, globex].map((tenant) => partitionOf(tenant, 'cpu', PARTITIONS)));
    await until(
      () => [...used].every((p) => (crashing.writes.get(p) ?? 0) >= 2),
      'the batch of each partition was written twice',
    );
    await first.stop();
    for (let p = 0; p < PARTITIONS; p++) expect(log.committed(p)).toBe(-1);

    const stored = async () => ({
      acme: await storage.count('points', "tenant_id = 'acme'"),
      globex: await storage.count('points', "tenant_id = 'globex'"),
      anomalies: await storage.count('anomalies'),
    });
    expect(await stored()).toEqual({ acme: POINTS, globex: POINTS, anomalies: 1 });

    // Second life: a new engine over the same log replays the uncommitted batches and commits them.
    const second = engine(sink);
    await second.start();
    await until(
      () => [...used].every((p) => log.committed(p) >= 0 && log.pendingBytes(p) === 0),
      'every partition was committed',
    );
    await second.stop();

    // Counted without FINAL: the replay's inserts were dropped, not merged away later.
    expect(await stored()).toEqual({ acme: POINTS, globex: POINTS, anomalies: 1 });
    const found = await anomalies.find(acme, { limit: 10 });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ series: 'cpu', ts: T0 + SPIKE * MINUTE, value: metric(SPIKE, true) });
    expect(found[0].score).toBeGreaterThanOrEqual(0.5);
    expect(await anomalies.find(globex, { limit: 10 })).toEqual([]);

    const range = await points.range(acme, 'cpu', T0, T0 + POINTS * MINUTE, POINTS);
    if (range.resolution !== 'raw') throw new Error('expected raw points');
    expect(range.points.map((p) => p.value)).toEqual(
      Array.from({ length: POINTS }, (_, i) => metric(i, true)),
    );
    expect(range.points.filter((p) => p.flags !== 0).map((p) => p.ts)).toEqual([T0 + SPIKE * MINUTE]);
    expect(logger.warn).not.toHaveBeenCalled();
  });
});
