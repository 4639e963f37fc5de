import { KAFKA_BROKER_HOOK_TIMEOUT_MS, randomTopicName, useKafkaBroker } from '@seismo/kafka/testing';
import { encodePointBatch, partitionOf, PointBatchBuilder } from '@seismo/pipeline';
import { AnomalyRepository, parseTenantId, PointRepository } from '@seismo/storage';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestStorage } from '../../../libs/storage/test/storage.harness';
import { BatchProcessor } from '../src/pipeline/batch.processor';
import { ClickHouseSink } from '../src/pipeline/clickhouse.sink';
import { EngineRunner } from '../src/pipeline/engine.runner';
import { InMemoryPointLog } from '../src/pipeline/in-memory-point.log';
import { InMemoryPointQueue } from '../src/pipeline/in-memory-point.queue';
import { KafkaPointQueue, type KafkaPointQueueOptions } from '../src/pipeline/kafka-point.queue';
import { DEFAULT_POINTS_RETENTION_MS, ensurePointTopics } from '../src/pipeline/kafka-point.topics';
import { type PointQueue, type QueueBatch } from '../src/pipeline/point-queue';
import { PointQueueExceptionCode } from '../src/pipeline/point-queue.exception';
import { type ProcessedBatch } from '../src/pipeline/processed-batch';
import { type BatchSink } from '../src/pipeline/sink';

const kafka = useKafkaBroker();
jest.setTimeout(120_000);

let storage: TestStorage;
beforeAll(async () => {
  storage = await TestStorage.start();
}, KAFKA_BROKER_HOOK_TIMEOUT_MS);
afterAll(async () => {
  await storage?.stop();
});

function client(): Kafka {
  // Quiet: kafkajs logs the retried, expected errors of a group's first join as ERROR.
  return new Kafka({
    clientId: 'kafka-point-queue-spec',
    brokers: kafka().brokers,
    logLevel: logLevel.NOTHING,
  });
}

let queues: KafkaPointQueue[] = [];
afterEach(async () => {
  await Promise.all(queues.map((queue) => queue.close()));
  queues = [];
});

interface FreshTopic {
  /** A new queue over the topic, in the topic's group. */
  open(options?: Partial<KafkaPointQueueOptions>): Promise<KafkaPointQueue>;
  /** The sum over partitions of the group's committed positions (next offsets to read). */
  committed(): Promise<number>;
}

/** A topic and a consumer group of the test's own. */
async function freshTopic(partitions: number): Promise<FreshTopic> {
  const topic = randomTopicName('points');
  const groupId = randomTopicName('group');
  const admin = client().admin();
  await admin.connect();
  try {
    await ensurePointTopics(admin, {
      pointsTopic: topic,
      dlqTopic: `${topic}.dlq`,
      anomaliesTopic: `${topic}.anomalies`,
      partitions,
    });
  } finally {
    await admin.disconnect();
  }
  const open = async (options: Partial<KafkaPointQueueOptions> = {}): Promise<KafkaPointQueue> => {
    const queue = await KafkaPointQueue.connect(client(), {
      topic,
      groupId,
      maxBatchMessages: 4,
      retryDelayMs: 10,
      // Short fetch waits: stop() waits for the fetch in flight.
      maxWaitTimeInMs: 100,
      ...options,
    });
    queues.push(queue);
    return queue;
  };
  const committed = async (): Promise<number> => {
    const reader = client().admin();
    await reader.connect();
    try {
      const [{ partitions: found }] = await reader.fetchOffsets({ groupId, topics: [topic] });
      return found.reduce((sum, { offset }) => sum + Math.max(0, Number(offset)), 0);
    } finally {
      await reader.disconnect();
    }
  };
  return { open, committed };
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let waited = 0; waited < 60_000; waited += 20) {
    if (predicate()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting until ${what}`);
}

async function eventually(predicate: () => Promise<boolean>, what: string): Promise<void> {
  for (let waited = 0; waited < 60_000; waited += 50) {
    if (await predicate()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting until ${what}`);
}

const offsets = (batch: QueueBatch): number[] => batch.messages.map((m) => m.offset);
const last = (batch: QueueBatch): number => batch.messages[batch.messages.length - 1].offset;
const text = (value: string): Uint8Array => new TextEncoder().encode(value);

describe('ensurePointTopics', () => {
  it('creates the points topic keeping raw points one day, and leaves an existing topic as it is', async () => {
    const topic = randomTopicName('points');
    const admin = client().admin();
    await admin.connect();
    try {
      const topics = { pointsTopic: topic, dlqTopic: `${topic}.dlq`, anomaliesTopic: `${topic}.anomalies` };
      await ensurePointTopics(admin, { ...topics, partitions: 2 });
      const retentionOf = async (name: string) => {
        const { resources } = await admin.describeConfigs({
          resources: [{ type: ConfigResourceTypes.TOPIC, name, configNames: ['retention.ms'] }],
          includeSynonyms: false,
        });
        return resources[0].configEntries.find((entry) => entry.configName === 'retention.ms')?.configValue;
      };
      expect(await retentionOf(topic)).toBe(String(DEFAULT_POINTS_RETENTION_MS));
      await ensurePointTopics(admin, { ...topics, partitions: 2, pointsRetentionMs: 60_000 });
      expect(await retentionOf(topic)).toBe(String(DEFAULT_POINTS_RETENTION_MS));
    } finally {
      await admin.disconnect();
    }
  });
});

describe('KafkaPointQueue', () => {
  it('keeps each partition in order, in batches that never cross a multiple of maxBatchMessages', async () => {
    const { open: queueOver, committed } = await freshTopic(3);
    const queue = await queueOver();
    expect(queue.partitions).toBe(3);
    // Appends made together share produce requests; their offsets still follow call order.
    const written = await Promise.all(
      Array.from({ length: 30 }, (_, i) => queue.append(i % 3, text(`${i % 3}:${Math.floor(i / 3)}`))),
    );
    expect(written).toEqual(Array.from({ length: 30 }, (_, i) => Math.floor(i / 3)));
    // And appends one after the other, each acknowledged before the next.
    for (let i = 10; i < 15; i++) expect(await queue.append(1, text(`1:${i}`))).toBe(i);

    const seen: QueueBatch[] = [];
    let running = 0;
    let most = 0;
    await queue.run({
      eachBatch: async (batch) => {
        most = Math.max(most, ++running);
        seen.push(batch);
        await sleep(1);
        running--;
        await queue.commit(batch.partition, last(batch));
      },
    });
    await until(() => seen.reduce((n, b) => n + b.messages.length, 0) === 35, 'all 35 messages arrived');

    for (const [partition, count] of [
      [0, 10],
      [1, 15],
      [2, 10],
    ]) {
      const batches = seen.filter((b) => b.partition === partition);
      expect(batches.flatMap(offsets)).toEqual(Array.from({ length: count }, (_, i) => i));
      expect(batches.flatMap((b) => b.messages.map((m) => Buffer.from(m.value).toString()))).toEqual(
        Array.from({ length: count }, (_, i) => `${partition}:${i}`),
      );
      for (const batch of batches) {
        expect(Math.floor(batch.messages[0].offset / 4)).toBe(Math.floor(last(batch) / 4));
      }
    }
    await eventually(async () => (await committed()) === 35, 'every batch was committed');
    // Partitions run concurrently; one partition never runs two batches at once (checked by order above).
    expect(most).toBeLessThanOrEqual(3);
    await expect(queue.append(3, text('x'))).rejects.toMatchObject({
      code: PointQueueExceptionCode.UNKNOWN_PARTITION,
    });
  });

  it('resumes after the last commit in a new consumer, cutting the uncommitted batch as before', async () => {
    const { open: queueOver, committed } = await freshTopic(1);
    const first = await queueOver();
    for (let i = 0; i < 6; i++) await first.append(0, text(`m${i}`));
    const seenFirst: number[][] = [];
    await first.run({
      eachBatch: async (batch) => {
        seenFirst.push(offsets(batch));
        // Only the first batch is committed: the second is "lost in a crash" before its commit.
        if (batch.messages[0].offset === 0) await first.commit(0, last(batch));
      },
    });
    await until(() => seenFirst.length === 2, 'two batches arrived');
    await first.stop();
    // Block 0..3 full; 4..5 a partial cut, recorded with the commit before it was delivered.
    expect(seenFirst).toEqual([
      [0, 1, 2, 3],
      [4, 5],
    ]);

    // More messages arrive before the restart; the replay still ends the uncommitted batch
    // at 5, so a sink's dedup token for it comes out the same.
    for (let i = 6; i < 9; i++) await first.append(0, text(`m${i}`));
    const second = await queueOver();
    const seenSecond: number[][] = [];
    await second.run({
      eachBatch: async (batch) => {
        seenSecond.push(offsets(batch));
        await second.commit(0, last(batch));
      },
    });
    await until(() => seenSecond.flat().includes(8), 'the new messages arrived');
    expect(seenSecond).toEqual([[4, 5], [6, 7], [8]]);
    await eventually(async () => (await committed()) === 9, 'everything was committed');
    await second.stop();

    // Everything committed: a third consumer of the group has nothing to read.
    const third = await queueOver();
    const seenThird: number[][] = [];
    await third.append(0, text('m9'));
    await third.run({ eachBatch: async (batch) => void seenThird.push(offsets(batch)) });
    await until(() => seenThird.length > 0, 'the newest message arrived');
    expect(seenThird).toEqual([[9]]);
  });

  it('delivers a batch whose handler failed again, from the last commit, with the same cut', async () => {
    const { open: queueOver } = await freshTopic(1);
    const queue = await queueOver({ maxBatchMessages: 2 });
    for (let i = 0; i < 3; i++) await queue.append(0, text(`m${i}`));
    const seen: number[][] = [];
    let failures = 0;
    await queue.run({
      eachBatch: async (batch) => {
        seen.push(offsets(batch));
        if (batch.messages[0].offset === 2 && failures++ < 2) {
          // Messages arriving meanwhile must not widen the batch delivered again.
          if (failures === 1) await queue.append(0, text('m3'));
          throw new Error('sink unavailable');
        }
        await queue.commit(0, last(batch));
      },
    });
    await until(() => seen.flat().includes(3), 'the later message arrived');
    expect(seen).toEqual([[0, 1], [2], [2], [2], [3]]);
  });

  it('tells the handler of partitions a rebalance gave to another member', async () => {
    const { open: queueOver } = await freshTopic(2);
    const first = await queueOver({ sessionTimeout: 6000, heartbeatInterval: 500, rebalanceTimeout: 10_000 });
    for (const partition of [0, 1]) await first.append(partition, text(`m${partition}`));
    const seen = new Set<number>();
    const revoked: number[] = [];
    await first.run({
      eachBatch: async (batch) => {
        seen.add(batch.partition);
        await first.commit(batch.partition, last(batch));
      },
      revoked: (partition) => void revoked.push(partition),
    });
    await until(() => seen.size === 2, 'the first member read both partitions');
    expect(revoked).toEqual([]);

    const second = await queueOver({
      sessionTimeout: 6000,
      heartbeatInterval: 500,
      rebalanceTimeout: 10_000,
    });
    const secondSeen = new Set<number>();
    await second.run({ eachBatch: async (batch) => void secondSeen.add(batch.partition) });
    // One partition each: the first member hears of the one it lost.
    for (const partition of [0, 1]) await second.append(partition, text(`n${partition}`));
    await until(() => revoked.length === 1 && secondSeen.size === 1, 'the group split the partitions');
    expect(secondSeen.has(revoked[0])).toBe(true);
  });

  it('refuses commits it cannot make, naming the partition', async () => {
    const { open: queueOver } = await freshTopic(1);
    const queue = await queueOver();
    await queue.append(0, text('m0'));
    await expect(queue.commit(0, 0)).rejects.toMatchObject({ code: PointQueueExceptionCode.NOT_RUNNING });
    let delivered = false;
    await queue.run({ eachBatch: async () => void (delivered = true) });
    await until(() => delivered, 'the message arrived');
    await expect(queue.commit(0, 1)).rejects.toMatchObject({
      code: PointQueueExceptionCode.OFFSET_OUT_OF_RANGE,
      message: expect.stringMatching(/partition 0 offset 1/),
    });
    await expect(queue.run({ eachBatch: async () => undefined })).rejects.toMatchObject({
      code: PointQueueExceptionCode.ALREADY_RUNNING,
    });
    await queue.stop();
    // Stopped: it left the group and owns no partition any more.
    await expect(queue.commit(0, 0)).rejects.toMatchObject({ code: PointQueueExceptionCode.FENCED });
  });
});

// The same input as pipeline.int-spec.ts: two tenants, one series each, a spike in acme's.
const PARTITIONS = 4;
const T0 = Date.UTC(2031, 0, 1);
const MINUTE = 60_000;
const POINTS = 400;
const PER_MESSAGE = 50;
const SPIKE = 300;
const acme = parseTenantId('acme');
const globex = parseTenantId('globex');

function metric(i: number, spike: boolean): number {
  return 10 + Math.sin(i / 8) + ((i * 7919) % 101) / 500 + (spike && i === SPIKE ? 25 : 0);
}

/** Stands for a process that dies after its write landed and before it committed. */
class CrashingBeforeCommit implements BatchSink {
  writes = 0;
  constructor(private readonly inner: BatchSink) {}

  async write(batch: ProcessedBatch): Promise<void> {
    await this.inner.write(batch);
    this.writes++;
    throw new Error('simulated crash between the write and the commit');
  }
}

describe('the pipeline over Kafka against ClickHouse', () => {
  async function feed(queue: Pick<PointQueue, 'append'>): Promise<void> {
    for (const tenant of [acme, globex]) {
      const partition = partitionOf(tenant, 'cpu', PARTITIONS);
      for (let from = 0; from < POINTS; from += PER_MESSAGE) {
        const builder = new PointBatchBuilder(tenant);
        for (let i = from; i < from + PER_MESSAGE; i++)
          builder.add('cpu', T0 + i * MINUTE, metric(i, tenant === acme));
        await queue.append(partition, encodePointBatch(builder.build()));
      }
    }
  }

  const engine = (
    queue: PointQueue,
    sink: BatchSink,
    logger = { log: jest.fn(), warn: jest.fn(), error: jest.fn() },
  ) =>
    new EngineRunner(
      queue,
      new BatchProcessor({ retentionOf: () => ({ pointsDays: 65535, anomaliesDays: 65535 }) }),
      sink,
      { retryDelayMs: 5, logger },
    );

  /** Every stored row but the insert time, in a stable order. */
  async function snapshot(): Promise<{ points: unknown[]; anomalies: unknown[] }> {
    return {
      points: await storage.rows(
        'SELECT tenant_id, series, ts, value, score, flags, retention_days FROM points ORDER BY tenant_id, series, ts',
      ),
      anomalies: await storage.rows(
        'SELECT tenant_id, id, series, ts, value, score, severity, detectors, context_ts, context_values, explanation ' +
          'FROM anomalies ORDER BY tenant_id, series, ts, id',
      ),
    };
  }

  it('stores the same rows as the embedded queue, and a replay after a crash doubles nothing', async () => {
    const points = new PointRepository(storage.connection);
    const anomalies = new AnomalyRepository(storage.connection);

    // The reference: the embedded queue, straight through.
    const log = new InMemoryPointLog({ partitions: PARTITIONS, maxPendingBytes: 1 << 20 });
    await feed(log);
    const embedded = engine(
      new InMemoryPointQueue(log, { maxBatchMessages: 3 }),
      new ClickHouseSink(points, anomalies, 'embedded'),
    );
    await embedded.start();
    await until(
      () => [0, 1, 2, 3].every((p) => log.pendingBytes(p) === 0),
      'the embedded queue was committed',
    );
    await embedded.stop();
    const reference = await snapshot();
    expect(reference.points).toHaveLength(2 * POINTS);
    expect(reference.anomalies).toHaveLength(1);
    await storage.client.command({ query: 'TRUNCATE TABLE points' });
    await storage.client.command({ query: 'TRUNCATE TABLE anomalies' });

    // Kafka, first life: every batch is written (twice, by the runner's retry) and never committed.
    const { open: queueOver, committed } = await freshTopic(PARTITIONS);
    const producer = await queueOver({ maxBatchMessages: 3 });
    await feed(producer);
    const sink = new ClickHouseSink(points, anomalies, 'kafka-point-queue-spec');
    const crashing = new CrashingBeforeCommit(sink);
    const first = engine(await queueOver({ maxBatchMessages: 3 }), crashing);
    await first.start();
    await until(() => crashing.writes >= 4, 'batches of both partitions were written');
    await first.stop();
    const afterCrash = await storage.count('points');
    expect(afterCrash).toBeGreaterThan(0);

    // Second life: a new consumer in the group replays from the last commit (nothing) to the end.
    const logger = { log: jest.fn(), warn: jest.fn(), error: jest.fn() };
    const second = engine(await queueOver({ maxBatchMessages: 3 }), sink, logger);
    await second.start();
    await eventually(async () => (await storage.count('points')) === 2 * POINTS, 'every point was stored');
    await eventually(async () => {
      const stored = await storage.count('anomalies');
      return stored === 1 && (await committed()) === 2 * (POINTS / PER_MESSAGE);
    }, 'every batch was committed');
    await second.stop();

    // Counted without FINAL: the replay's inserts were dropped by their dedup tokens.
    expect(await snapshot()).toEqual(reference);
    expect(logger.error).not.toHaveBeenCalled();
  });
});
