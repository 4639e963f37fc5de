import { encodeAnomalyEvent } from '@seismo/engine/pipeline/anomaly-event';
import { KAFKA_BROKER_HOOK_TIMEOUT_MS, randomTopicName, useKafkaBroker } from '@seismo/kafka/testing';
import { type AnomalyRecord, parseTenantId, type TenantId } from '@seismo/storage';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { AnomalyFeed } from '../src/stream/anomaly.feed';
import { AnomalyTopicConsumer } from '../src/stream/anomaly-topic.consumer';

const kafka = useKafkaBroker();
jest.setTimeout(120_000);

const ACME = parseTenantId('acme');
const GLOBEX = parseTenantId('globex');
const PROBE = parseTenantId('probe');

function anomaly(tenantId: TenantId, id: string): AnomalyRecord {
  return {
    tenantId,
    id,
    series: 'cpu{host="a"}',
    ts: Date.UTC(2026, 0, 1),
    value: 99,
    score: 0.9,
    severity: 'critical',
    detectors: ['ensemble'],
    context: { ts: [], values: [] },
    explanation: null,
    revision: 0,
    createdAt: 0,
    retentionDays: 30,
  };
}

function client(): Kafka {
  return new Kafka({
    clientId: 'anomaly-topic-consumer-spec',
    brokers: kafka().brokers,
    logLevel: logLevel.NOTHING,
  });
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let waited = 0; waited < 60_000; waited += 20) {
    if (predicate()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting until ${what}`);
}

let producer: Producer;
let consumer: AnomalyTopicConsumer | undefined;
beforeAll(async () => {
  producer = client().producer();
  await producer.connect();
}, KAFKA_BROKER_HOOK_TIMEOUT_MS);
afterAll(async () => {
  await producer?.disconnect();
});
afterEach(async () => {
  await consumer?.stop();
  consumer = undefined;
});

describe('AnomalyTopicConsumer (real Kafka)', () => {
  it("delivers each event to its tenant's listeners, and skips a malformed message without stopping", async () => {
    const topic = randomTopicName('anomalies');
    const admin = client().admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    const feed = new AnomalyFeed();
    const warnings: string[] = [];
    consumer = new AnomalyTopicConsumer(client(), feed, {
      topic,
      maxWaitTimeInMs: 100,
      logger: { warn: (message: string) => warnings.push(message) },
    });
    expect(consumer.groupId).toMatch(/^seismo-api-stream-[0-9a-f]{12}$/);
    const acme: string[] = [];
    const globex: string[] = [];
    const probes: string[] = [];
    feed.subscribe(ACME, (e) => acme.push(e.id));
    feed.subscribe(GLOBEX, (e) => globex.push(e.id));
    feed.subscribe(PROBE, (e) => probes.push(e.id));
    await consumer.start();

    // The consumer starts at the end of each partition as of its first fetch there, which may
    // come after start() resolved: a probe arriving from a partition says it reads whatever
    // comes next there. Probes go on until both partitions sent one through.
    const probed = (): boolean => ['0', '1'].every((p) => probes.some((id) => id.endsWith(`/${p}`)));
    for (let attempt = 0; !probed(); attempt++) {
      if (attempt === 300) throw new Error(`probes arrived from too few partitions: ${probes.join(', ')}`);
      await producer.send({
        topic,
        messages: [0, 1].map((partition) => ({
          partition,
          value: encodeAnomalyEvent(anomaly(PROBE, `p${attempt}/${partition}`)),
        })),
      });
      await sleep(200);
    }

    const valid = (tenant: TenantId, id: string) => ({
      partition: 0,
      value: encodeAnomalyEvent(anomaly(tenant, id)),
    });
    const wrongShape = JSON.stringify({
      ...JSON.parse(encodeAnomalyEvent(anomaly(ACME, 'x')).toString()),
      score: 3,
    });
    await producer.send({
      topic,
      messages: [
        valid(ACME, 'a1'),
        valid(GLOBEX, 'g1'),
        { partition: 0, value: Buffer.from('not json {') },
        { partition: 0, value: Buffer.from(wrongShape) },
        { partition: 0, value: null },
        valid(ACME, 'a2'),
      ],
    });
    await producer.send({
      topic,
      messages: [{ partition: 1, value: encodeAnomalyEvent(anomaly(GLOBEX, 'g2')) }],
    });

    await until(() => acme.length >= 2 && globex.length >= 2, 'the valid events arrive');
    expect(acme).toEqual(['a1', 'a2']);
    expect(globex).toEqual(['g1', 'g2']);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(
      new RegExp(`^${topic.replace('.', '\\.')} partition 0 offset \\d+ skipped: .*not JSON`),
    );
    expect(warnings[1]).toMatch(/score/);
    expect(warnings[2]).toMatch(/no value/);
  });
});
