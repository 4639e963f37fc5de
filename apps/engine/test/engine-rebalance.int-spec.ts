import { KAFKA_BROKER_HOOK_TIMEOUT_MS, randomTopicName, useKafkaBroker } from '@seismo/kafka/testing';
import { encodePointBatch, partitionOf, PointBatchBuilder } from '@seismo/pipeline';
import {
  AnomalyRepository,
  CheckpointRepository,
  HOUR_MS,
  parseTenantId,
  PointRepository,
  UsageRepository,
} from '@seismo/storage';
import { Kafka, logLevel } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestStorage } from '../../../libs/storage/test/storage.harness';
import { BatchProcessor } from '../src/pipeline/batch.processor';
import { ClickHouseSink } from '../src/pipeline/clickhouse.sink';
import { EngineRunner } from '../src/pipeline/engine.runner';
import { KafkaPointQueue } from '../src/pipeline/kafka-point.queue';
import { ensurePointTopics } from '../src/pipeline/kafka-point.topics';
import { UsageCommitter } from '../src/pipeline/usage.committer';
import { type PointRecord } from '@seismo/storage';

/*
 * Two engines in one consumer group share the partitions of a topic; when one leaves
 * (cleanly, or as a crash would: without its closing checkpoint), the other takes its
 * partitions, restores their checkpointed detector state, replays what the checkpoint
 * did not cover, and goes on scoring exactly as one engine that never stopped.
 */

const kafka = useKafkaBroker();
jest.setTimeout(180_000);

const PARTITIONS = 4;
const SERIES = 8;
const T0 = Date.UTC(2031, 0, 1);
const MINUTE = 60_000;
const PER_MESSAGE = 25;
const acme = parseTenantId('acme');

let storage: TestStorage;
beforeAll(async () => {
  storage = await TestStorage.start();
}, KAFKA_BROKER_HOOK_TIMEOUT_MS);
afterAll(async () => {
  await storage?.stop();
});

function client(): Kafka {
  return new Kafka({
    clientId: 'engine-rebalance-spec',
    brokers: kafka().brokers,
    logLevel: logLevel.NOTHING,
  });
}

/** Series s: a noisy seasonal metric with an outlier at point 40 + 30*s. */
function metric(s: number, i: number): number {
  const noise = (((i + 13 * s) * 7919) % 101) / 100;
  return 20 + s + 5 * Math.sin(i / (6 + s)) + noise + (i === 40 + 30 * s ? 30 : 0);
}

/** Messages of points [from, to) of every series, each message one series' run, by partition. */
function messages(from: number, to: number): Map<number, Uint8Array[]> {
  const out = new Map<number, Uint8Array[]>();
  for (let start = from; start < to; start += PER_MESSAGE) {
    for (let s = 0; s < SERIES; s++) {
      const name = `cpu{host="h${s}"}`;
      const builder = new PointBatchBuilder(acme);
      for (let i = start; i < Math.min(to, start + PER_MESSAGE); i++)
        builder.add(name, T0 + i * MINUTE, metric(s, i));
      const partition = partitionOf(acme, name, PARTITIONS);
      out.set(partition, [...(out.get(partition) ?? []), encodePointBatch(builder.build())]);
    }
  }
  return out;
}

/** What one engine that never stopped computes: each partition's messages through one processor, in order. */
function reference(all: Map<number, Uint8Array[]>): Map<string, number> {
  const processor = new BatchProcessor({ retentionOf: () => ({ pointsDays: 65535, anomaliesDays: 65535 }) });
  const scores = new Map<string, number>();
  for (const [partition, values] of all) {
    for (let offset = 0; offset < values.length; offset++) {
      const processed = processor.process({ partition, messages: [{ offset, value: values[offset] }] });
      for (const p of processed.points) scores.set(key(p), Math.fround(p.score));
    }
  }
  return scores;
}

const key = (p: Pick<PointRecord, 'series' | 'ts'>) => `${p.series}@${p.ts}`;

async function eventually(predicate: () => Promise<boolean>, what: string): Promise<void> {
  for (let waited = 0; waited < 90_000; waited += 100) {
    if (await predicate()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe('engines in one group, with checkpoints', () => {
  it.each([
    ['leaves cleanly', true],
    ['dies without its closing checkpoint', false],
  ])('one engine takes over the partitions of one that %s, with their state', async (_, clean) => {
    await storage.client.command({ query: 'TRUNCATE TABLE points' });
    await storage.client.command({ query: 'TRUNCATE TABLE usage_hourly' });
    const topic = randomTopicName('points');
    const groupId = randomTopicName('group');
    const admin = client().admin();
    await admin.connect();
    await ensurePointTopics(admin, { pointsTopic: topic, dlqTopic: `${topic}.dlq`, partitions: PARTITIONS });

    const sink = new ClickHouseSink(
      new PointRepository(storage.connection),
      new AnomalyRepository(storage.connection),
      topic,
    );
    const checkpoints = new CheckpointRepository(storage.connection);
    const usage = new UsageRepository(storage.connection);
    const logger = { log: jest.fn(), warn: jest.fn(), error: jest.fn() };
    const engine = async (intervalMs: number) => {
      const queue = await KafkaPointQueue.connect(client(), {
        topic,
        groupId,
        maxBatchMessages: 4,
        retryDelayMs: 10,
        maxWaitTimeInMs: 100,
        sessionTimeout: 6000,
        heartbeatInterval: 500,
        rebalanceTimeout: 10_000,
      });
      const runner = new EngineRunner(
        queue,
        new BatchProcessor({ retentionOf: () => ({ pointsDays: 65535, anomaliesDays: 65535 }) }),
        sink,
        {
          retryDelayMs: 5,
          logger,
          checkpoints: { store: checkpoints, source: topic, intervalMs },
          usage: new UsageCommitter(usage, topic, { lingerMs: 50, logger }),
        },
      );
      return { queue, runner };
    };
    const committed = async (): Promise<number> => {
      const [{ partitions }] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return partitions.reduce((sum, { offset }) => sum + Math.max(0, Number(offset)), 0);
    };

    const first = messages(0, 200);
    const second = messages(200, 400);
    const producer = await KafkaPointQueue.connect(client(), { topic, maxBatchMessages: 4 });
    const produce = async (batches: Map<number, Uint8Array[]>) => {
      for (const [partition, values] of batches)
        for (const value of values) await producer.append(partition, value);
    };
    const count = (batches: Map<number, Uint8Array[]>) =>
      [...batches.values()].reduce((n, v) => n + v.length, 0);

    // The leaving engine's first round would come after an hour: only its closing round, if any, counts.
    const staying = await engine(0);
    const leaving = await engine(3_600_000);
    await staying.runner.start();
    await leaving.runner.start();
    await produce(first);
    await eventually(async () => (await committed()) === count(first), 'the first half was committed');

    if (clean) await leaving.runner.stop();
    else await leaving.queue.close(); // no closing round: its partitions' state is older than their commits

    await produce(second);
    await eventually(
      async () => (await committed()) === count(first) + count(second),
      'the second half was committed by the engine that stayed',
    );
    await staying.runner.stop();
    await staying.queue.close();
    await producer.close();
    await admin.disconnect();

    const stored = await storage.rows<{ series: string; ts_ms: string; score: number }>(
      'SELECT series, toUnixTimestamp64Milli(ts) AS ts_ms, score FROM points ORDER BY series, ts',
    );
    const expected = reference(
      new Map([0, 1, 2, 3].map((p) => [p, [...(first.get(p) ?? []), ...(second.get(p) ?? [])]])),
    );
    expect(stored).toHaveLength(expected.size);
    // Scores are stored as Float32, printed as the shortest text that reads back as the same Float32.
    const differing = stored.filter(
      (row) => expected.get(key({ series: row.series, ts: Number(row.ts_ms) })) !== Math.fround(row.score),
    );
    expect(differing).toEqual([]);
    // Every point metered once, whichever engine wrote it and however often it was delivered.
    const metered = await usage.total(acme, Date.now() - 2 * HOUR_MS, Date.now() + HOUR_MS);
    expect([metered.points_ingested, metered.points_scored, metered.active_series]).toEqual([
      expected.size,
      expected.size,
      SERIES,
    ]);
    expect(logger.error).not.toHaveBeenCalled();
    // What the engine that stayed did with the partitions it took over: a clean leaver's closing
    // round covered its commits; a dead one's partitions had to be replayed from the log.
    expect(logger.log).toHaveBeenCalledWith(
      expect.stringMatching(clean ? /restored \d+ series as of offset 15$/ : /replaying offsets \d+-15$/),
    );
  });
});
