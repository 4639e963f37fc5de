import { randomTopicName, useKafkaBroker } from '@seismo/kafka/testing';
import { decodePointBatch, encodePointBatch, partitionOf, PointBatchBuilder } from '@seismo/pipeline';
import { parseTenantId, type TenantId } from '@seismo/storage';
import { type IHeaders, Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { inletTopicOf } from '../src/inlet/inlet-topic';
import { TenantInlet, type TenantInletOptions } from '../src/inlet/tenant-inlet.consumer';
import { KafkaPointQueue } from '../src/pipeline/kafka-point.queue';
import { ensurePointTopics } from '../src/pipeline/kafka-point.topics';

const kafka = useKafkaBroker();
jest.setTimeout(120_000);

const PARTITIONS = 3;
const NOW = Date.now();

function client(retries?: number): Kafka {
  return new Kafka({
    clientId: 'tenant-inlet-spec',
    brokers: kafka().brokers,
    // Quiet: kafkajs logs the retried, expected errors of a group's first join as ERROR.
    logLevel: logLevel.NOTHING,
    ...(retries !== undefined ? { retry: { retries, initialRetryTime: 50 } } : {}),
  });
}

const quiet = { log: jest.fn(), warn: jest.fn(), error: jest.fn() };
beforeEach(() => jest.clearAllMocks());

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.reverse()) await close();
  closers = [];
});

async function eventually(predicate: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let waited = 0; waited < 60_000; waited += 50) {
    if (await predicate()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting until ${what}`);
}

async function withAdmin<T>(work: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
  const admin = client().admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * The points and DLQ topics of one test, an inlet group, and the tenants it knows. Inlets of
 * other tests' groups see this test's inlet topics too: they refuse them (unknown tenants) to
 * their own DLQ, which is why every check here filters by tenant or source topic.
 */
async function freshSetup() {
  const base = randomTopicName('inlet');
  const topics = {
    pointsTopic: `${base}.points`,
    dlqTopic: `${base}.dlq`,
    anomaliesTopic: `${base}.anomalies`,
  };
  await withAdmin((admin) => ensurePointTopics(admin, { ...topics, partitions: PARTITIONS }));
  const known = new Set<TenantId>();
  const options: TenantInletOptions = {
    transactionalId: `${base}.inlet`,
    partitions: PARTITIONS,
    isKnownTenant: (tenant) => known.has(tenant),
    pointsTopic: topics.pointsTopic,
    dlqTopic: topics.dlqTopic,
    groupId: `${base}.group`,
    topicRefreshMs: 200,
    retryDelayMs: 50,
    maxWaitTimeInMs: 100,
    logger: quiet,
  };
  const start = async (
    overrides: Partial<TenantInletOptions> = {},
    kafkaClient = client(),
  ): Promise<TenantInlet> => {
    const inlet = await TenantInlet.start(kafkaClient, { ...options, ...overrides });
    closers.push(() => inlet.stop());
    return inlet;
  };
  /** A tenant of this test, with its inlet topic of two partitions. */
  const tenant = async (knownTenant = true): Promise<{ tenant: TenantId; topic: string }> => {
    const id = parseTenantId(`t-${randomBytes(6).toString('hex')}`);
    if (knownTenant) known.add(id);
    const topic = inletTopicOf(id);
    await withAdmin((admin) =>
      admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true }),
    );
    return { tenant: id, topic };
  };
  /** The inlet group's committed offsets of `topic`, summed over its partitions. */
  const committed = (topic: string): Promise<number> =>
    withAdmin(async (admin) => {
      const [found] = await admin.fetchOffsets({ groupId: options.groupId!, topics: [topic] });
      return found.partitions.reduce((sum, { offset }) => sum + Math.max(0, Number(offset)), 0);
    });
  return { ...topics, options, start, tenant, committed };
}

/** Writes JSON bodies to an inlet topic as a direct producer would: keyed by series, one body per message. */
async function produce(topic: string, bodies: ReadonlyArray<{ key: string; body: unknown }>): Promise<void> {
  const producer = client().producer();
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: bodies.map(({ key, body }) => ({
        key,
        value: typeof body === 'string' ? body : JSON.stringify(body),
      })),
    });
  } finally {
    await producer.disconnect();
  }
}

type Relayed = [tenant: string, series: string, t: number, value: number];

/**
 * Reads the points topic as the engine does (KafkaPointQueue: read-committed, a group of its
 * own), decoding every point batch.
 */
async function readPoints(pointsTopic: string): Promise<Relayed[]> {
  const seen: Relayed[] = [];
  const queue = await KafkaPointQueue.connect(client(), {
    topic: pointsTopic,
    groupId: randomTopicName('engine'),
    maxBatchMessages: 4,
    retryDelayMs: 10,
    maxWaitTimeInMs: 100,
  });
  closers.push(() => queue.close());
  await queue.run({
    eachBatch: async (batch) => {
      for (const { value } of batch.messages) {
        const points = decodePointBatch(value);
        for (let i = 0; i < points.t.length; i++) {
          seen.push([points.tenant, points.series[points.seriesIndex[i]], points.t[i], points.value[i]]);
        }
      }
      await queue.commit(batch.partition, batch.messages[batch.messages.length - 1].offset);
    },
  });
  return seen;
}

/** Every message of the DLQ from the start, collected as it arrives. */
async function readDeadLetters(dlqTopic: string): Promise<KafkaMessage[]> {
  const seen: KafkaMessage[] = [];
  const consumer = client().consumer({ groupId: randomTopicName('dlq'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  closers.push(() => consumer.disconnect());
  await consumer.subscribe({ topic: dlqTopic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void seen.push(message) });
  return seen;
}

const header = (headers: IHeaders | undefined, name: string) => headers?.[name]?.toString();
const fromTopic = (topic: string) => (letter: KafkaMessage) =>
  header(letter.headers, 'source-topic') === topic;
const sorted = (points: Relayed[]) => [...points].sort((a, b) => a[1].localeCompare(b[1]) || a[2] - b[2]);

/** Series that land on every partition of the points topic, so that a marker point per series closes them all. */
function seriesOnEveryPartition(tenant: TenantId): string[] {
  const chosen = new Map<number, string>();
  for (let i = 0; chosen.size < PARTITIONS; i++) {
    const series = `cpu-${i}`;
    const partition = partitionOf(tenant, series, PARTITIONS);
    if (!chosen.has(partition)) chosen.set(partition, series);
  }
  return [...chosen.values()];
}

/** Points of `series`, values `from`..`to`-1, one message per point. */
function bodies(series: readonly string[], from: number, to: number) {
  const out: Array<{ key: string; body: unknown }> = [];
  for (let v = from; v < to; v++) {
    const name = series[v % series.length];
    out.push({ key: name, body: { points: [{ series: name, ts: NOW - 60_000 + v, value: v }] } });
  }
  return out;
}

describe('TenantInlet', () => {
  it('relays the valid points of seismo.in.<tenant>, and sends a bad point alone to the DLQ', async () => {
    const setup = await freshSetup();
    const { tenant, topic } = await setup.tenant();
    await produce(topic, [
      {
        key: 'cpu',
        body: {
          points: [
            { series: 'cpu', ts: NOW - 2000, value: 1 },
            { series: 'mem', labels: { host: 'a' }, ts: new Date(NOW - 1000).toISOString(), value: 2 },
          ],
        },
      },
      {
        key: 'cpu',
        body: {
          points: [
            { series: 'cpu', ts: NOW - 1000, value: 3 },
            { series: 'cpu', ts: NOW - 500, value: 'high' },
            { series: 'cpu', ts: NOW, value: 5 },
          ],
        },
      },
      { key: 'cpu', body: '{"points": [' },
    ]);
    const letters = await readDeadLetters(setup.dlqTopic);
    const points = await readPoints(setup.pointsTopic);
    await setup.start();

    await eventually(
      () => points.length >= 4 && letters.filter(fromTopic(topic)).length >= 2,
      'all was relayed',
    );
    expect(sorted(points)).toEqual([
      [tenant, 'cpu', NOW - 2000, 1],
      [tenant, 'cpu', NOW - 1000, 3],
      [tenant, 'cpu', NOW, 5],
      [tenant, 'mem{host="a"}', NOW - 1000, 2],
    ]);
    const mine = letters.filter(fromTopic(topic));
    const partition = header(mine[0].headers, 'source-partition');
    expect(
      mine.map((letter) => ({
        reason: header(letter.headers, 'reason'),
        offset: header(letter.headers, 'source-offset'),
        partition: header(letter.headers, 'source-partition'),
        index: header(letter.headers, 'source-index'),
        tenant: header(letter.headers, 'tenant'),
        value: letter.value!.toString(),
      })),
    ).toEqual([
      {
        reason: expect.stringMatching(/^points\[1\]\.value: /),
        offset: '1',
        partition,
        index: '1',
        tenant,
        value: JSON.stringify({ points: [{ series: 'cpu', ts: NOW - 500, value: 'high' }] }),
      },
      {
        reason: expect.stringMatching(/^body: not valid JSON/),
        offset: '2',
        partition,
        index: undefined,
        tenant,
        value: '{"points": [',
      },
    ]);
    await eventually(async () => (await setup.committed(topic)) === 3, 'the inlet committed its offsets');
  });

  it('refuses the topic of an unknown tenant whole, and relays nothing of it', async () => {
    const setup = await freshSetup();
    const { tenant, topic } = await setup.tenant(false);
    const body = { points: [{ series: 'cpu', ts: NOW, value: 1 }] };
    await produce(topic, [{ key: 'cpu', body }]);
    const letters = await readDeadLetters(setup.dlqTopic);
    await setup.start();

    await eventually(() => letters.some(fromTopic(topic)), 'the message reached the DLQ');
    const [letter] = letters.filter(fromTopic(topic));
    expect(header(letter.headers, 'reason')).toBe(`topic ${topic}: no open tenant has the id ${tenant}`);
    expect(JSON.parse(letter.value!.toString())).toEqual(body);
    await eventually(async () => (await setup.committed(topic)) === 1, 'the inlet committed its offset');
    // Every inlet topic on the broker is another test's, unknown here: nothing reached the points topic.
    const ends = await withAdmin((admin) => admin.fetchTopicOffsets(setup.pointsTopic));
    expect(ends.map((p) => p.high)).toEqual(['0', '0', '0']);
  });

  it('picks up an inlet topic created after it started', async () => {
    const setup = await freshSetup();
    const points = await readPoints(setup.pointsTopic);
    await setup.start();
    const { tenant, topic } = await setup.tenant();
    await produce(topic, [{ key: 'cpu', body: { points: [{ series: 'cpu', ts: NOW, value: 7 }] } }]);
    await eventually(() => points.length > 0, 'the point was relayed');
    expect(points).toEqual([[tenant, 'cpu', NOW, 7]]);
  });

  it('relays nothing twice across a restart on the same group', async () => {
    const setup = await freshSetup();
    const { tenant, topic } = await setup.tenant();
    const series = seriesOnEveryPartition(tenant);
    await produce(topic, bodies(series, 0, 12));
    const first = await setup.start();
    await eventually(async () => (await setup.committed(topic)) === 12, 'the first inlet committed');
    await first.stop();

    await produce(topic, bodies(series, 12, 24));
    await setup.start();
    const points = await readPoints(setup.pointsTopic);
    // A last point on every series, after the rest: each partition is read to its end once it arrived.
    await produce(topic, bodies(series, 24, 24 + series.length));
    await eventually(
      () => points.filter((p) => p[3] >= 24).length === series.length,
      'the last points arrived',
    );
    expect(points.map((p) => p[3]).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 24 + series.length }, (_, v) => v),
    );
  });

  it('aborts what a crashed predecessor left open, and relays its batch once', async () => {
    const setup = await freshSetup();
    const { tenant, topic } = await setup.tenant();
    const series = seriesOnEveryPartition(tenant);
    await produce(topic, bodies(series, 0, 6));

    // The predecessor: it produced a relayed batch in its transaction and died before committing.
    const crashed = client().producer({
      transactionalId: setup.options.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await crashed.connect();
    closers.push(() => crashed.disconnect());
    const transaction = await crashed.transaction();
    for (const name of series) {
      const builder = new PointBatchBuilder(tenant);
      builder.add(name, NOW, -1);
      await transaction.send({
        topic: setup.pointsTopic,
        acks: -1,
        messages: [
          { partition: partitionOf(tenant, name, PARTITIONS), value: encodePointBatch(builder.build()) },
        ],
      });
    }

    await setup.start();
    const points = await readPoints(setup.pointsTopic);
    await produce(topic, bodies(series, 6, 6 + series.length));
    await eventually(
      () => points.filter((p) => p[3] >= 6).length === series.length,
      'the last points arrived',
    );
    // The open transaction held every reader back; aborted, it is skipped and its points never seen.
    expect(points.map((p) => p[3]).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 6 + series.length }, (_, v) => v),
    );
  });

  it('relays a batch whose transaction failed once the cause is gone, and only once', async () => {
    const setup = await freshSetup();
    const { tenant, topic } = await setup.tenant();
    const series = seriesOnEveryPartition(tenant);
    // A bad point needs the DLQ, which does not exist yet: every transaction of the batch fails.
    const dlqTopic = randomTopicName('missing-dlq');
    await produce(topic, [
      ...bodies(series, 0, 3),
      { key: series[0], body: { points: [{ series: series[0], ts: NOW, value: 'NaN' }] } },
      ...bodies(series, 3, 6),
    ]);
    const points = await readPoints(setup.pointsTopic);
    await setup.start({ dlqTopic }, client(1));
    await eventually(() => quiet.error.mock.calls.length >= 2, 'a transaction failed twice');
    expect(points).toEqual([]);

    await withAdmin((admin) => admin.createTopics({ topics: [{ topic: dlqTopic }], waitForLeaders: true }));
    await produce(topic, bodies(series, 6, 6 + series.length));
    await eventually(
      () => points.filter((p) => p[3] >= 6).length === series.length,
      'the last points arrived',
    );
    expect(points.map((p) => p[3]).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 6 + series.length }, (_, v) => v),
    );
    const letters = await readDeadLetters(dlqTopic);
    await eventually(() => letters.some(fromTopic(topic)), 'the bad point reached the DLQ');
    const mine = letters.filter(fromTopic(topic));
    expect(mine.map((letter) => header(letter.headers, 'reason'))).toEqual([
      expect.stringMatching(/^points\[0\]\.value: /),
    ]);
  });
});
