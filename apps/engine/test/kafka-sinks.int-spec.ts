import { KAFKA_BROKER_HOOK_TIMEOUT_MS, randomTopicName, useKafkaBroker } from '@seismo/kafka/testing';
import { type AnomalyRecord, parseTenantId } from '@seismo/storage';
import { type IHeaders, Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeAnomalyEvent, toAnomalyEvent } from '../src/pipeline/anomaly-event';
import { KafkaAnomalySink } from '../src/pipeline/kafka-anomaly.sink';
import { KafkaDeadLetterSink } from '../src/pipeline/kafka-dead-letter.sink';
import { ensurePointTopics } from '../src/pipeline/kafka-point.topics';
import { type ProcessedBatch } from '../src/pipeline/processed-batch';

const kafka = useKafkaBroker();
jest.setTimeout(KAFKA_BROKER_HOOK_TIMEOUT_MS);

function client(): Kafka {
  return new Kafka({ clientId: 'kafka-sinks-spec', brokers: kafka().brokers, logLevel: logLevel.NOTHING });
}

/** Creates the three topics under fresh names, `partitions` each but the DLQ. */
async function freshTopics(partitions: number) {
  const base = randomTopicName('sinks');
  const topics = {
    pointsTopic: `${base}.points`,
    dlqTopic: `${base}.dlq`,
    anomaliesTopic: `${base}.anomalies`,
  };
  const admin = client().admin();
  await admin.connect();
  try {
    await ensurePointTopics(admin, { ...topics, partitions });
  } finally {
    await admin.disconnect();
  }
  return topics;
}

/** Every message of `topic` from the start, with its partition, once `count` have arrived. */
async function readAll(topic: string, count: number): Promise<Array<KafkaMessage & { partition: number }>> {
  const seen: Array<KafkaMessage & { partition: number }> = [];
  const consumer = client().consumer({ groupId: randomTopicName('group'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => void seen.push({ ...message, partition }),
    });
    for (let waited = 0; seen.length < count; waited += 50) {
      if (waited > 30_000) throw new Error(`${seen.length} of ${count} messages arrived on ${topic}`);
      await sleep(50);
    }
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

async function endOffsets(topic: string): Promise<number[]> {
  const admin = client().admin();
  await admin.connect();
  try {
    // A topic just made may not have its leader known to every request path yet: kafkajs
    // answers NOT_LEADER_FOR_PARTITION (retriable) for a moment, and does not retry it here.
    for (let attempt = 1; ; attempt++) {
      try {
        return (await admin.fetchTopicOffsets(topic)).map((p) => Number(p.high));
      } catch (error) {
        if (attempt === 50 || !(error as { retriable?: boolean }).retriable) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

const text = (headers: IHeaders | undefined, name: string) => headers?.[name]?.toString();

const acme = parseTenantId('acme');
const globex = parseTenantId('globex');
const T0 = Date.UTC(2031, 0, 1);

function anomaly(tenantId: typeof acme, series: string, i: number): AnomalyRecord {
  return {
    tenantId,
    id: `${tenantId}-${series}-${i}`,
    series,
    ts: T0 + i * 60_000,
    value: 40 + i,
    score: 0.99,
    severity: 'critical',
    detectors: ['robust-zscore', 'spike'],
    context: { ts: [T0 - 60_000, T0], values: [10, 11] },
    explanation: i === 0 ? null : 'a spike',
    revision: 0,
    createdAt: T0 + 1,
    retentionDays: 30,
  };
}

function batch(parts: Partial<ProcessedBatch>): ProcessedBatch {
  return {
    partition: 1,
    firstOffset: 40,
    lastOffset: 49,
    points: [],
    anomalies: [],
    usage: [],
    deadLetters: [],
    ...parts,
  };
}

describe('ensurePointTopics', () => {
  it('creates the points, DLQ and anomalies topics, again without harm, and checks the points count', async () => {
    const topics = await freshTopics(3);
    expect((await endOffsets(topics.pointsTopic)).length).toBe(3);
    expect((await endOffsets(topics.dlqTopic)).length).toBe(1);
    expect((await endOffsets(topics.anomaliesTopic)).length).toBe(3);

    const admin = client().admin();
    await admin.connect();
    try {
      await ensurePointTopics(admin, { ...topics, partitions: 3 });
      await expect(ensurePointTopics(admin, { ...topics, partitions: 4 })).rejects.toThrow(
        `topic ${topics.pointsTopic} has 3 partitions, the engine is configured for 4`,
      );
    } finally {
      await admin.disconnect();
    }
  });
});

describe('KafkaAnomalySink', () => {
  it('publishes each anomaly as an event keyed by tenant/series with a tenant header', async () => {
    const { anomaliesTopic } = await freshTopics(4);
    const sink = await KafkaAnomalySink.connect(client(), { topic: anomaliesTopic });
    try {
      const records = [anomaly(acme, 'cpu', 0), anomaly(acme, 'cpu', 1), anomaly(globex, 'mem{host="a"}', 2)];
      await sink.write(batch({ anomalies: records }));
      // Nothing to publish: nothing sent.
      await sink.write(batch({ firstOffset: 50, lastOffset: 59 }));

      const seen = await readAll(anomaliesTopic, 3);
      expect((await endOffsets(anomaliesTopic)).reduce((a, b) => a + b)).toBe(3);
      const byId = new Map(seen.map((m) => [decodeAnomalyEvent(m.value!).id, m]));
      for (const record of records) {
        const message = byId.get(record.id)!;
        expect(decodeAnomalyEvent(message.value!)).toEqual(toAnomalyEvent(record));
        expect(message.key!.toString()).toBe(`${record.tenantId}/${record.series}`);
        expect(text(message.headers, 'tenant')).toBe(record.tenantId);
      }
      // One series, one partition, in order.
      const cpu = seen.filter((m) => m.key!.toString() === 'acme/cpu');
      expect(new Set(cpu.map((m) => m.partition)).size).toBe(1);
      expect(cpu.map((m) => decodeAnomalyEvent(m.value!).id)).toEqual(['acme-cpu-0', 'acme-cpu-1']);
    } finally {
      await sink.disconnect();
    }
  });
});

describe('KafkaDeadLetterSink', () => {
  it('puts each dead letter as it came, with its reason and origin in headers', async () => {
    const { pointsTopic, dlqTopic } = await freshTopics(2);
    const sink = await KafkaDeadLetterSink.connect(client(), { topic: dlqTopic, sourceTopic: pointsTopic });
    try {
      const bytes = new Uint8Array([0, 255, 1, 42, 7]);
      const letters = [
        { partition: 1, offset: 41, reason: 'point batch: unknown format 0', value: bytes.subarray(1, 4) },
        {
          partition: 1,
          offset: 44,
          reason: 'point batch: header.tenant is missing',
          value: new Uint8Array(0),
        },
      ];
      await sink.write(batch({ deadLetters: letters }));
      await sink.write(batch({ firstOffset: 50, lastOffset: 59 }));

      const seen = await readAll(dlqTopic, 2);
      expect(await endOffsets(dlqTopic)).toEqual([2]);
      expect(
        seen.map((m) => ({
          value: [...(m.value ?? Buffer.alloc(0))],
          reason: text(m.headers, 'reason'),
          topic: text(m.headers, 'source-topic'),
          partition: text(m.headers, 'source-partition'),
          offset: text(m.headers, 'source-offset'),
        })),
      ).toEqual([
        { value: [255, 1, 42], reason: letters[0].reason, topic: pointsTopic, partition: '1', offset: '41' },
        { value: [], reason: letters[1].reason, topic: pointsTopic, partition: '1', offset: '44' },
      ]);
    } finally {
      await sink.disconnect();
    }
  });
});
