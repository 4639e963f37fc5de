import { DEFAULT_DETECTOR } from '@seismo/detectors';
import { BatchProcessor } from '@seismo/engine/pipeline/batch.processor';
import { ClickHouseSink } from '@seismo/engine/pipeline/clickhouse.sink';
import { UsageCommitter } from '@seismo/engine/pipeline/usage.committer';
import { EngineRunner } from '@seismo/engine/pipeline/engine.runner';
import { KafkaPointProducer } from '@seismo/engine/pipeline/kafka-point.producer';
import { KafkaPointQueue } from '@seismo/engine/pipeline/kafka-point.queue';
import { ensurePointTopics } from '@seismo/engine/pipeline/kafka-point.topics';
import { type QueueMessage } from '@seismo/engine/pipeline/point-queue';
import { type ProcessedBatch } from '@seismo/engine/pipeline/processed-batch';
import {
  AnomalyRepository,
  CheckpointRepository,
  ClickHouseConnection,
  Migrator,
  PointRepository,
  UsageRepository,
} from '@seismo/storage';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { type EngineConfig, parseEngineArguments } from './arguments';
import { startBenchBroker } from './bench-broker';
import { reportMeasurement } from './fork';
import { figure, type Measurement } from './result';
import { Workload } from './workload';

const TOPIC = 'seismo.points';
const GROUP = 'seismo-engine';
const PARTITIONS = 4;
const TENANT = 'bench';
/** What the runtime uses: every engine of a group must cut batches alike. */
const MAX_BATCH_MESSAGES = 256;
/** Production's default (SEISMO_CHECKPOINT_INTERVAL_MS). */
const CHECKPOINT_INTERVAL_MS = 30_000;
const RETENTION = { pointsDays: 30, anomaliesDays: 30 };
const STEP_MS = 10_000;
const POLL_MS = 50;
const DRAIN_TIMEOUT_MS = 15 * 60_000;

/**
 * The engine alone, from Kafka to ClickHouse: `points` points are produced to a fresh
 * 4-partition topic first (as ingest would: one message per partition per request of
 * `requestPoints`), then an EngineRunner as production builds it (KafkaPointQueue in the
 * group, BatchProcessor, ClickHouseSink over embedded ClickHouse, checkpoints every 30 s)
 * is timed from start until the group's committed offsets reach the end of every partition.
 *
 * Then the same messages go through a fresh BatchProcessor in memory, no Kafka and no
 * ClickHouse: the scoring-only rate, so the reader sees how much of the engine's time is
 * decoding and scoring, and how much is the queue and the writes.
 */
export async function measureEngine(config: EngineConfig): Promise<Measurement> {
  const dir = await mkdtemp(join(tmpdir(), 'seismo-bench-engine-'));
  const broker = await startBenchBroker();
  const kafka = new Kafka({ clientId: 'seismo-bench', brokers: broker.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  let connection: ClickHouseConnection | undefined;
  try {
    await admin.connect();
    await ensurePointTopics(admin, { pointsTopic: TOPIC, partitions: PARTITIONS });
    // Timestamps a day back: inside every retention, and never in the future.
    const workload = new Workload(config.series, Date.now() - 86_400_000, STEP_MS);

    const produceStart = process.hrtime.bigint();
    const log = await produce(kafka, workload, config);
    const produceSeconds = secondsSince(produceStart);
    process.stderr.write(`produced ${config.points} points in ${produceSeconds.toFixed(1)} s\n`);

    connection = await ClickHouseConnection.open({ dataDir: join(dir, 'clickhouse') });
    await new Migrator(connection.client).migrate();
    const ends = await endOffsets(admin);
    const timed = await runEngine(kafka, admin, connection, ends);
    const stored = await count(connection, 'points');
    if (stored !== config.points) throw new Error(`the engine stored ${stored} of ${config.points} points`);

    const scoringSeconds = scoreInMemory(log);
    return {
      benchmark: 'engine',
      detector: DEFAULT_DETECTOR,
      params: {
        points: config.points,
        series: config.series,
        requestPoints: config.requestPoints,
        partitions: PARTITIONS,
        checkpointIntervalMs: CHECKPOINT_INTERVAL_MS,
      },
      figures: {
        pointsPerSecond: figure('points/s', [config.points / timed.seconds]),
        scoringPointsPerSecond: figure('points/s', [config.points / scoringSeconds]),
        producePointsPerSecond: figure('points/s', [config.points / produceSeconds]),
        firstWriteSeconds: figure('s', [timed.firstWriteSeconds]),
        anomalies: figure('anomalies', [await count(connection, 'anomalies')]),
      },
      runs: 1,
    };
  } finally {
    await admin.disconnect().catch(() => undefined);
    await connection?.close();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Produces the workload; returns each partition's messages with their offsets, in order. */
async function produce(kafka: Kafka, workload: Workload, config: EngineConfig): Promise<QueueMessage[][]> {
  const producer = new KafkaPointProducer(kafka, { topic: TOPIC, partitions: PARTITIONS });
  await producer.connect();
  const log: QueueMessage[][] = Array.from({ length: PARTITIONS }, () => []);
  try {
    const appends: Array<Promise<void>> = [];
    for (let from = 0; from < config.points; from += config.requestPoints) {
      const to = Math.min(config.points, from + config.requestPoints);
      for (const { partition, value } of workload.messages(TENANT, PARTITIONS, from, to)) {
        appends.push(
          producer.append(partition, value).then((offset) => void log[partition].push({ offset, value })),
        );
      }
      // A turn of the event loop now and then lets the producer send what is pending.
      if (appends.length % 64 === 0) await sleep(0);
    }
    await Promise.all(appends);
  } finally {
    await producer.disconnect();
  }
  for (const messages of log) messages.sort((a, b) => a.offset - b.offset);
  return log;
}

async function runEngine(
  kafka: Kafka,
  admin: Admin,
  connection: ClickHouseConnection,
  ends: ReadonlyMap<number, number>,
): Promise<{ seconds: number; firstWriteSeconds: number }> {
  const queue = await KafkaPointQueue.connect(kafka, {
    topic: TOPIC,
    groupId: GROUP,
    maxBatchMessages: MAX_BATCH_MESSAGES,
  });
  const sink = new ClickHouseSink(new PointRepository(connection), new AnomalyRepository(connection), TOPIC);
  let firstWrite: bigint | undefined;
  const engine = new EngineRunner(
    queue,
    new BatchProcessor({ retentionOf: () => RETENTION }),
    {
      write: (batch: ProcessedBatch) => {
        firstWrite ??= process.hrtime.bigint();
        return sink.write(batch);
      },
    },
    {
      checkpoints: {
        store: new CheckpointRepository(connection),
        source: TOPIC,
        intervalMs: CHECKPOINT_INTERVAL_MS,
      },
      logger: quietLogger,
      usage: new UsageCommitter(new UsageRepository(connection), TOPIC, { logger: quietLogger }),
    },
  );
  const start = process.hrtime.bigint();
  await engine.start();
  try {
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (!(await caughtUp(admin, ends))) {
      if (Date.now() > deadline) throw new Error(`the engine did not catch up in ${DRAIN_TIMEOUT_MS} ms`);
      await sleep(POLL_MS);
    }
    const seconds = secondsSince(start);
    return { seconds, firstWriteSeconds: Number(firstWrite! - start) / 1e9 };
  } finally {
    await engine.stop();
    await queue.close();
  }
}

/** Next offset of each partition: where a caught-up group's commits stand. */
async function endOffsets(admin: Admin): Promise<Map<number, number>> {
  const offsets = await admin.fetchTopicOffsets(TOPIC);
  return new Map(offsets.map((p) => [p.partition, Number(p.high)]));
}

async function caughtUp(admin: Admin, ends: ReadonlyMap<number, number>): Promise<boolean> {
  const [topic] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
  const committed = new Map(topic.partitions.map((p) => [p.partition, Number(p.offset)]));
  return [...ends].every(([partition, end]) => committed.get(partition) === end);
}

/** Seconds a fresh BatchProcessor takes over the same messages, in the engine's batch sizes. */
function scoreInMemory(log: readonly QueueMessage[][]): number {
  const processor = new BatchProcessor({ retentionOf: () => RETENTION });
  let rows = 0;
  const start = process.hrtime.bigint();
  // Partitions interleaved batch by batch, as the engine's concurrent partitions are.
  for (let from = 0; log.some((messages) => from < messages.length); from += MAX_BATCH_MESSAGES) {
    for (const [partition, messages] of log.entries()) {
      if (from >= messages.length) continue;
      const batch = processor.process({
        partition,
        messages: messages.slice(from, from + MAX_BATCH_MESSAGES),
      });
      rows += batch.points.length;
    }
  }
  const seconds = secondsSince(start);
  if (rows === 0) throw new Error('the processor made no rows');
  return seconds;
}

async function count(connection: ClickHouseConnection, table: string): Promise<number> {
  const result = await connection.client.query({
    query: `SELECT count() AS n FROM ${table}`,
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ n: string }>();
  return Number(row.n);
}

function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Warnings and errors reach stderr; the engine's progress lines do not. */
const quietLogger = {
  log: () => undefined,
  warn: (message: unknown) => void process.stderr.write(`engine: ${String(message)}\n`),
  error: (message: unknown) => void process.stderr.write(`engine: ${String(message)}\n`),
};

if (require.main === module) {
  reportMeasurement((argv) => measureEngine(parseEngineArguments(argv)));
}
