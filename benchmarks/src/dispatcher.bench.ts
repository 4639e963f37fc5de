import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createChannels,
  DeliveryDispatcher,
  deliveryOf,
  DeliveryRepository,
  type NewDelivery,
  type Notification,
} from '@seismo/alerting';
import {
  ClickHouseConnection,
  emptyUsage,
  hourOf,
  Migrator,
  parseDedupToken,
  parseTenantId,
  type TenantId,
  UsageRepository,
} from '@seismo/storage';
import { type DispatcherConfig, parseDispatcherArguments } from './arguments';
import { reportMeasurement } from './fork';
import { matchDeliveryReceipts } from './receipts';
import { figure, latencyFigures, type Measurement } from './result';
import { WebhookReceiver } from './webhook-receiver';

const TENANT = parseTenantId('bench');
/** How long after the last enqueue the receiver may wait for the last delivery. */
const DRAIN_TIMEOUT_MS = 5 * 60_000;
const DRAIN_POLL_MS = 10;
/** How long the outbox may take to store the last outcomes once every delivery arrived. */
const SETTLE_TIMEOUT_MS = 10_000;

/**
 * The alert outbox as the API runs it: the real DeliveryDispatcher over the real
 * DeliveryRepository on embedded ClickHouse (a temporary data directory, migrated), the
 * real webhook channel (signed JSON through OutboundHttp, loopback allowed as
 * SEISMO_ALLOW_PRIVATE_TARGETS allows it), the runtime's options and its metering hook,
 * and a receiver on 127.0.0.1 answering 200.
 *
 * `deliveries` deliveries, one notification (one incident) each, go round-robin over
 * `subscriptions` subscriptions, each its own URL; they are enqueued `enqueueBatch` at a
 * time, one call after another, as the alerting service hands the outbox what it routed.
 * Deliveries/s runs from the first enqueue to the last delivery's receipt; a delivery's
 * latency from the enqueue call that carried it to its receipt.
 */
export async function measureDispatcher(config: DispatcherConfig): Promise<Measurement> {
  const dir = await mkdtemp(join(tmpdir(), 'seismo-bench-dispatcher-'));
  const receiver = await WebhookReceiver.start();
  const connection = await ClickHouseConnection.open({ dataDir: join(dir, 'clickhouse') });
  const channels = createChannels({ allowPrivateTargets: true });
  let dispatcher: DeliveryDispatcher | undefined;
  try {
    await new Migrator(connection.client).migrate();
    const outbox = new DeliveryRepository(connection);
    const usage = new UsageRepository(connection);
    const meteringFailures: unknown[] = [];
    // The options startAlerting gives it: every other one at its default.
    dispatcher = new DeliveryDispatcher(outbox, {
      channelFor: (kind) => channels.channelFor(kind),
      delivered: (tenant, count, batch) => {
        const row = { ...emptyUsage(tenant, hourOf(Date.now())), alertsDelivered: count };
        usage
          .insertBatch([row], parseDedupToken(batch))
          .catch((error: unknown) => meteringFailures.push(error));
      },
    });
    await dispatcher.start();

    const deliveries = planDeliveries(config, receiver.url, Date.now());
    const enqueuedAt = new Map<string, number>();
    const start = performance.now();
    for (let from = 0; from < deliveries.length; from += config.enqueueBatch) {
      const batch = deliveries.slice(from, from + config.enqueueBatch);
      const at = performance.now();
      for (const delivery of batch) enqueuedAt.set(delivery.id, at);
      await dispatcher.enqueue(batch);
    }
    const enqueueSeconds = (performance.now() - start) / 1000;
    process.stderr.write(`enqueued ${deliveries.length} deliveries in ${enqueueSeconds.toFixed(1)} s\n`);

    const deadline = performance.now() + DRAIN_TIMEOUT_MS;
    // Counting receipts is enough until there are as many as deliveries; only then can all have come.
    const arrived = () =>
      receiver.receipts.length >= enqueuedAt.size &&
      matchDeliveryReceipts(enqueuedAt, receiver.receipts).missing === 0;
    while (!arrived() && performance.now() < deadline) await sleep(DRAIN_POLL_MS);
    // A receipt is noted before its answer: give the last answers time to be stored as outcomes.
    const settle = performance.now() + SETTLE_TIMEOUT_MS;
    while (
      performance.now() < settle &&
      (await outbox.pending({ limit: 1, perSubscription: 1 })).length > 0
    ) {
      await sleep(DRAIN_POLL_MS * 10);
    }
    await dispatcher.stop();
    const match = matchDeliveryReceipts(enqueuedAt, receiver.receipts);
    if (match.lastAt === undefined) throw new Error('no delivery reached the receiver');
    // What the outbox says once the dispatcher wrote its last outcomes: every row sent.
    const pending = await outbox.pending({ limit: deliveries.length, perSubscription: deliveries.length });
    process.stderr.write(
      `received ${match.received} of ${deliveries.length} (${match.duplicates} again), ` +
        `${pending.length} left pending in the outbox\n`,
    );
    if (meteringFailures.length > 0) {
      process.stderr.write(`warning: ${meteringFailures.length} metering writes failed\n`);
    }
    return {
      benchmark: 'dispatcher',
      detector: 'none',
      params: {
        deliveries: config.deliveries,
        subscriptions: config.subscriptions,
        enqueueBatch: config.enqueueBatch,
      },
      figures: {
        deliveriesPerSecond: figure('deliveries/s', [match.received / ((match.lastAt - start) / 1000)]),
        enqueuedPerSecond: figure('deliveries/s', [deliveries.length / enqueueSeconds]),
        ...latencyFigures('receipt', match.latencies),
        missingDeliveries: figure('deliveries', [match.missing]),
        duplicateDeliveries: figure('deliveries', [match.duplicates]),
        pendingAfterStop: figure('deliveries', [pending.length]),
      },
      runs: 1,
    };
  } finally {
    await dispatcher?.stop();
    channels.close();
    await receiver.close();
    await connection.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The deliveries of the run: one anomaly incident each, as the router makes them. */
function planDeliveries(config: DispatcherConfig, url: string, now: number): NewDelivery[] {
  const subscriptions = Array.from({ length: config.subscriptions }, (_, s) => ({
    id: `sub_bench_${s}`,
    target: { kind: 'webhook' as const, url: `${url}/hooks/${s}`, secret: `whsec_bench_${s}` },
  }));
  return Array.from({ length: config.deliveries }, (_, i) =>
    deliveryOf(notificationOf(TENANT, i, now), subscriptions[i % subscriptions.length]),
  );
}

/** An anomaly incident's opening, sized as a real one is: one series, its links. */
function notificationOf(tenant: TenantId, i: number, now: number): Notification {
  const host = `web-${String(i % 1000).padStart(5, '0')}`;
  const series = `http_request_duration_seconds{host="${host}",route="/api/v1/orders",status="200"}`;
  const incident = `inc_bench_${i}`;
  return {
    id: `${incident}:opened:0`,
    tenantId: tenant,
    incidentId: incident,
    kind: 'anomaly',
    state: 'opened',
    severity: 'critical',
    title: `${series} anomalous (critical)`,
    summary: `http_request_duration_seconds on ${host} rose to 2.4, far above its usual 0.05-0.15.`,
    openedAt: now,
    at: now,
    series: [
      {
        series,
        metric: 'http_request_duration_seconds',
        labels: { host, route: '/api/v1/orders', status: '200' },
        ts: now,
        value: 2.4,
        score: 0.97,
        detectors: ['ensemble'],
      },
    ],
    anomalyIds: [`an_bench_${i}`],
    links: {
      series: `https://seismo.example/series/${encodeURIComponent(series)}`,
      feedback: {
        truePositive: `https://seismo.example/f/${i}/tp`,
        falsePositive: `https://seismo.example/f/${i}/fp`,
        expected: `https://seismo.example/f/${i}/ex`,
      },
    },
  };
}

if (require.main === module) {
  reportMeasurement((argv) => measureDispatcher(parseDispatcherArguments(argv)));
}
