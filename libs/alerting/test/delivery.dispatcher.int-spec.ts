import { type TenantId } from '@seismo/storage';
import { setTimeout as sleep } from 'node:timers/promises';
import { freshTenant, TestStorage } from '../../storage/test/storage.harness';
import { type Delivery } from '../src/channel';
import { seededRandom } from '../src/delivery/backoff';
import { deliveryOf, type ListedDelivery, type NewDelivery } from '../src/delivery/delivery';
import { DeliveryDispatcher, type DeliveryDispatcherOptions } from '../src/delivery/delivery.dispatcher';
import { DeliveryRepository } from '../src/delivery/delivery.repository';
import { type Notification } from '../src/notification';
import { HttpTestChannel } from './http-test.channel';
import { type Answer, TestReceiver } from './test.receiver';

let storage: TestStorage;
let repository: DeliveryRepository;
let receiver: TestReceiver;
const dispatchers: DeliveryDispatcher[] = [];

beforeAll(async () => {
  storage = await TestStorage.start();
  repository = new DeliveryRepository(storage.connection);
});
afterAll(async () => {
  await storage.stop();
});
afterEach(async () => {
  for (const d of dispatchers.splice(0)) await d.stop();
  await receiver.stop();
});

const quiet = { warn: () => undefined, error: () => undefined };

function dispatcher(options: Partial<DeliveryDispatcherOptions> = {}): DeliveryDispatcher {
  const channel = new HttpTestChannel();
  const d = new DeliveryDispatcher(repository, {
    channelFor: () => channel,
    backoff: { baseMs: 20, capMs: 100 },
    random: seededRandom(3),
    attemptTimeoutMs: 300,
    flushMs: 10,
    sweepMs: 100,
    logger: quiet,
    ...options,
  });
  dispatchers.push(d);
  return d;
}

function delivery(tenant: TenantId, path: string, incident: string): NewDelivery {
  const at = Date.now();
  const notification: Notification = {
    id: `${incident}:opened:0`,
    tenantId: tenant,
    incidentId: incident,
    kind: 'anomaly',
    state: 'opened',
    severity: 'critical',
    title: 'cpu anomalous',
    summary: 'cpu went up',
    openedAt: at,
    at,
    series: [],
    anomalyIds: [],
    links: {},
  };
  return deliveryOf(notification, {
    id: path,
    target: { kind: 'webhook', url: receiver.url(path), secret: 's3cret' },
  });
}

/** Polls until `check` holds (what it answers), failing the test after 15 s. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const found = await check();
    if (found !== undefined) return found;
    await sleep(50);
  }
  throw new Error(`timed out waiting until ${what}`);
}

async function settled(tenant: TenantId, count: number): Promise<ListedDelivery[]> {
  return eventually(`${count} deliveries of ${tenant} are settled`, async () => {
    const rows = await repository.list(tenant, { limit: 100 });
    return rows.length === count && rows.every((r) => r.status !== 'pending') ? rows : undefined;
  });
}

/** Every request that carried an idempotency key carried the same delivery's notification. */
function expectKeysStable(deliveries: readonly NewDelivery[]): void {
  const byKey = new Map(deliveries.map((d) => [d.idempotencyKey, d.notification.id]));
  for (const r of receiver.received)
    expect([r.idempotencyKey, r.body.notification.id]).toEqual([
      r.idempotencyKey,
      byKey.get(r.idempotencyKey),
    ]);
}

describe('DeliveryDispatcher against ClickHouse and HTTP receivers', () => {
  it('delivers to a flaky receiver, retries a hanging one until dead, and ends at once at a 410', async () => {
    receiver = await TestReceiver.start((path, n): ReturnType<Answer> => {
      if (path === 'flaky') return n < 2 ? 503 : 200;
      if (path === 'hangs') return 'hang';
      if (path === 'gone') return 410;
      return 200;
    });
    const tenant = freshTenant();
    const gone: Delivery[] = [];
    const delivered: number[] = [];
    const d = dispatcher({
      maxAttempts: 3,
      onGone: (x) => gone.push(x),
      delivered: (_, n) => delivered.push(n),
    });
    await d.start();
    const deliveries = [
      delivery(tenant, 'flaky', 'inc-1'),
      delivery(tenant, 'hangs', 'inc-2'),
      delivery(tenant, 'gone', 'inc-3'),
      delivery(tenant, 'ok', 'inc-4'),
    ];
    await d.enqueue(deliveries);
    // Durable before any attempt: the rows are there when enqueue resolves.
    expect(await storage.count('alert_deliveries', `tenant_id = '${tenant}'`)).toBeGreaterThanOrEqual(4);

    const rows = new Map((await settled(tenant, 4)).map((r) => [r.subscriptionId, r]));
    expect(rows.get('flaky')).toMatchObject({ status: 'sent', attempts: 3, lastStatus: 200 });
    expect(rows.get('ok')).toMatchObject({ status: 'sent', attempts: 1, lastStatus: 200 });
    expect(rows.get('hangs')).toMatchObject({
      status: 'dead',
      attempts: 3,
      lastError: 'no answer within 300 ms',
    });
    expect(rows.get('gone')).toMatchObject({
      status: 'dead',
      attempts: 1,
      lastStatus: 410,
      lastError: 'HTTP 410',
    });
    expect(gone.map((x) => x.subscriptionId)).toEqual(['gone']);
    expect(delivered.reduce((a, b) => a + b, 0)).toBe(2);

    expect(receiver.of('flaky')).toHaveLength(3);
    expect(receiver.of('flaky').map((r) => r.body.attempt)).toEqual([1, 2, 3]);
    expect(receiver.of('hangs')).toHaveLength(3);
    expect(receiver.of('gone')).toHaveLength(1);
    expectKeysStable(deliveries);
    expect(new Set(receiver.of('flaky').map((r) => r.idempotencyKey)).size).toBe(1);
  });

  it('stores a delivery enqueued twice once, and sends it once', async () => {
    receiver = await TestReceiver.start(() => 200);
    const tenant = freshTenant();
    const d = dispatcher();
    await d.start();
    const one = delivery(tenant, 'ok', 'inc-1');
    await d.enqueue([one]);
    await settled(tenant, 1);
    await d.enqueue([one]);
    await d.flush();
    expect(await storage.count('alert_deliveries FINAL', `tenant_id = '${tenant}'`)).toBe(1);
    expect((await repository.list(tenant, { limit: 10 }))[0].status).toBe('sent');
    expect(receiver.of('ok')).toHaveLength(1);
  });

  it('a second dispatcher finishes what a stopped one left pending, with the same idempotency keys', async () => {
    receiver = await TestReceiver.start(() => 'hang');
    const tenant = freshTenant();
    const first = dispatcher({ attemptTimeoutMs: 60_000 });
    await first.start();
    const deliveries = [0, 1, 2, 3, 4].map((i) => delivery(tenant, `sub-${i % 2}`, `inc-${i}`));
    await first.enqueue(deliveries);
    // Every subscription has an attempt hanging at the receiver when the first process goes.
    await eventually('both subscriptions have an attempt in flight', async () =>
      receiver.of('sub-0').length > 0 && receiver.of('sub-1').length > 0 ? true : undefined,
    );
    await first.stop();
    const left = await repository.list(tenant, { limit: 10 });
    expect(left.map((r) => [r.status, r.attempts])).toEqual(deliveries.map(() => ['pending', 0]));

    receiver.answerWith(() => 200);
    const second = dispatcher();
    await second.start();
    const rows = await settled(tenant, 5);
    expect(rows.every((r) => r.status === 'sent')).toBe(true);

    // Each delivery reached its receiver; those the first process had in flight twice, under one key.
    const keys = receiver.received.map((r) => r.idempotencyKey);
    expect(new Set(keys)).toEqual(new Set(deliveries.map((x) => x.idempotencyKey)));
    expect(keys.length).toBeGreaterThan(deliveries.length);
    expectKeysStable(deliveries);
  });

  it('holds few deliveries in memory and sweeps the rest from the table, in order', async () => {
    receiver = await TestReceiver.start(() => 200);
    const tenant = freshTenant();
    const d = dispatcher({ maxHeld: 4, maxHeldPerSubscription: 3, perSubscriptionConcurrency: 1 });
    await d.start();
    const deliveries = Array.from({ length: 30 }, (_, i) => delivery(tenant, `sub-${i % 3}`, `inc-${i}`));
    for (let i = 0; i < deliveries.length; i += 10) await d.enqueue(deliveries.slice(i, i + 10));
    expect(d.heldCount).toBeLessThanOrEqual(4);
    await settled(tenant, 30);
    for (const sub of ['sub-0', 'sub-1', 'sub-2']) {
      const wanted = deliveries.filter((x) => x.subscriptionId === sub).map((x) => x.notification.id);
      expect(receiver.of(sub).map((r) => r.body.notification.id)).toEqual(wanted);
    }
  });
});
