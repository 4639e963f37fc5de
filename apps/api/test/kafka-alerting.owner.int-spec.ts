import { setTimeout as sleep } from 'node:timers/promises';
import {
  AlertRouter,
  type Channel,
  type Delivery,
  DeliveryDispatcher,
  IncidentTracker,
  SilenceWatch,
} from '@seismo/alerting';
import { MemoryDeliveryStore, MemoryIncidentStore } from '@seismo/alerting/testing';
import { encodeAnomalyEvent } from '@seismo/engine/pipeline/anomaly-event';
import { KAFKA_BROKER_HOOK_TIMEOUT_MS, randomTopicName, useKafkaBroker } from '@seismo/kafka/testing';
import { encodePointBatch, PointBatchBuilder } from '@seismo/pipeline';
import { parseTenantId } from '@seismo/storage';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { anomalyRecord } from '../../../libs/storage/test/storage.harness';
import { AlertingService } from '../src/alerting/alerting.service';
import { type RunningAlerting } from '../src/alerting/alerting.start';
import { KafkaAlertingOwner } from '../src/alerting/kafka-alerting.owner';

const kafka = useKafkaBroker();
jest.setTimeout(180_000);

const ACME = parseTenantId('acme');

function client(): Kafka {
  return new Kafka({ clientId: 'alerting-owner-spec', brokers: kafka().brokers, logLevel: logLevel.NOTHING });
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let waited = 0; waited < 90_000; waited += 50) {
    if (predicate()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting until ${what}`);
}

/** An anomaly of ACME's, as the engine publishes it. */
function anomaly(id: string, series: string) {
  return anomalyRecord(ACME, id, Date.now(), { series, score: 0.95, detectors: ['ensemble'] });
}

/** A channel that records the notifications it sent (their incident, kind and state). */
class RecordingChannel implements Channel {
  readonly kind = 'webhook' as const;
  readonly sent: Delivery[] = [];
  send(delivery: Delivery) {
    this.sent.push(delivery);
    return Promise.resolve({ ok: true as const, status: 200 });
  }
  said(kind: string, state: string, series: string): boolean {
    return this.sent.some(
      (d) =>
        d.notification.kind === kind &&
        d.notification.state === state &&
        d.notification.series.some((s) => s.series === series),
    );
  }
}

/**
 * One API process's side of the group: its alerting path, started when it takes the lease,
 * on in-memory stores shared by all processes (as a deployment shares its ClickHouse).
 */
function process(
  name: string,
  shared: {
    groupId: string;
    anomalies: string;
    points: string;
    incidents: MemoryIncidentStore;
    outbox: MemoryDeliveryStore;
  },
) {
  const channel = new RecordingChannel();
  const terms: string[] = [];
  const start = async (feed: ConstructorParameters<typeof AlertingService>[0], ready: () => boolean) => {
    terms.push(name);
    const dispatcher = new DeliveryDispatcher(shared.outbox, { channelFor: () => channel, flushMs: 1 });
    const router = new AlertRouter({
      subscriptionsOf: (tenant) =>
        tenant === ACME
          ? [
              {
                id: 'sub_all',
                tenantId: ACME,
                name: 'all',
                filter: {},
                target: { kind: 'webhook', url: 'https://hooks.example/x', secret: 'whsec_x' },
                ratePerHour: 600,
                createdAt: 0,
              },
            ]
          : [],
      silencesOf: () => [],
    });
    const service = new AlertingService(
      feed,
      new IncidentTracker({ recordChanges: true }),
      router,
      dispatcher,
      {
        tickMs: 200,
        incidents: shared.incidents,
        silence: {
          watch: new SilenceWatch({ minSilenceMs: 1500, forgetAfterMs: 600_000 }),
          watches: (tenant) => tenant === ACME,
          ready,
        },
        logger: { log: () => undefined, error: () => undefined },
      },
    );
    await service.start();
    return { service, close: () => service.stop() } as RunningAlerting;
  };
  return {
    channel,
    terms,
    open: () =>
      KafkaAlertingOwner.start(client(), {
        groupId: shared.groupId,
        anomaliesTopic: shared.anomalies,
        pointsTopic: shared.points,
        start,
        maxWaitTimeInMs: 100,
        heartbeatInterval: 500,
        logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      }),
  };
}

let producer: Producer;
const opened: KafkaAlertingOwner[] = [];
beforeAll(async () => {
  producer = client().producer();
  await producer.connect();
}, KAFKA_BROKER_HOOK_TIMEOUT_MS);
afterAll(async () => {
  await Promise.all(opened.map((owner) => owner.close()));
  await producer?.disconnect();
});

async function topics(): Promise<{ anomalies: string; points: string }> {
  const names = { anomalies: randomTopicName('alert-anomalies'), points: randomTopicName('alert-points') };
  const admin = client().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [names.anomalies, names.points].map((topic) => ({ topic, numPartitions: 2 })),
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
  return names;
}

describe('KafkaAlertingOwner (real Kafka): one API process alerts, the others stand by', () => {
  it('alerts in one process only; another takes over when it leaves, and one started later takes what came meanwhile', async () => {
    const names = await topics();
    const shared = {
      groupId: randomTopicName('alerting'),
      ...names,
      incidents: new MemoryIncidentStore(),
      outbox: new MemoryDeliveryStore(),
    };
    const a = process('a', shared);
    const b = process('b', shared);
    const ownerA = await a.open();
    opened.push(ownerA);
    const ownerB = await b.open();
    opened.push(ownerB);
    await until(
      () => (ownerA.current !== undefined) !== (ownerB.current !== undefined),
      'one process alerts',
    );
    // Both have joined by now, and the group settled on one.
    await sleep(3000);
    expect([ownerA.owns, ownerB.owns].filter(Boolean)).toHaveLength(1);
    const [first, second] = ownerA.owns ? [a, b] : [b, a];
    const [firstOwner, secondOwner] = ownerA.owns ? [ownerA, ownerB] : [ownerB, ownerA];

    await producer.send({
      topic: names.anomalies,
      messages: [{ key: 'acme/cpu', value: encodeAnomalyEvent(anomaly('an_1', 'cpu{host="a"}')) }],
    });
    await until(
      () => first.channel.said('anomaly', 'opened', 'cpu{host="a"}'),
      'the owner told of the incident',
    );

    await firstOwner.close();
    await until(() => secondOwner.current !== undefined, 'the other process took over');
    await producer.send({
      topic: names.anomalies,
      messages: [{ key: 'acme/disk', value: encodeAnomalyEvent(anomaly('an_2', 'disk{host="b"}')) }],
    });
    await until(
      () => second.channel.said('anomaly', 'opened', 'disk{host="b"}'),
      'the new owner told of its incident',
    );
    // The first incident was taken over from the store: not told again as new.
    expect(second.channel.sent.filter((d) => d.notification.state === 'opened')).toHaveLength(1);
    expect(second.terms).toEqual([second === a ? 'a' : 'b']);

    // Nobody alerts for a while; what is stored meanwhile waits in the topic for the next owner.
    await secondOwner.close();
    await producer.send({
      topic: names.anomalies,
      messages: [{ key: 'acme/mem', value: encodeAnomalyEvent(anomaly('an_3', 'mem{host="c"}')) }],
    });
    const c = process('c', shared);
    const ownerC = await c.open();
    opened.push(ownerC);
    await until(
      () => c.channel.said('anomaly', 'opened', 'mem{host="c"}'),
      'a later process took what came meanwhile',
    );
    const opens = [...a.channel.sent, ...b.channel.sent, ...c.channel.sent].filter(
      (d) => d.notification.state === 'opened',
    );
    expect(opens.map((d) => d.notification.series[0].series).sort()).toEqual([
      'cpu{host="a"}',
      'disk{host="b"}',
      'mem{host="c"}',
    ]);
    await ownerC.close();
  });

  it('opens a no-data incident for a series that stops arriving on the points topic, and resolves it when it is back', async () => {
    const names = await topics();
    const owner = process('solo', {
      groupId: randomTopicName('alerting'),
      ...names,
      incidents: new MemoryIncidentStore(),
      outbox: new MemoryDeliveryStore(),
    });
    const running = await owner.open();
    opened.push(running);
    await until(() => running.current !== undefined, 'the only process alerts');
    // The group reads from the end of each partition as of its first fetch: give it that fetch.
    await sleep(2000);
    const push = async (value: number) => {
      const builder = new PointBatchBuilder(ACME);
      builder.add('heartbeat{host="h"}', Date.now(), value);
      // Written straight to the topic, as the tenant inlet relays a direct producer's points.
      await producer.send({
        topic: names.points,
        messages: [{ partition: 0, value: encodePointBatch(builder.build(0)) }],
      });
    };
    for (let i = 0; i < 14; i++) {
      await push(i);
      await sleep(150);
    }
    await until(() => owner.channel.said('no_data', 'opened', 'heartbeat{host="h"}'), 'the silence was told');
    await push(14);
    await until(
      () => owner.channel.said('no_data', 'resolved', 'heartbeat{host="h"}'),
      'the return was told',
    );
    await running.close();
  });
});
