import {
  AlertRouter,
  type Channel,
  type Delivery,
  DeliveryDispatcher,
  deliveryOf,
  IncidentTracker,
  SilenceWatch,
  type Subscription,
} from '@seismo/alerting';
import { MemoryDeliveryStore, MemoryIncidentStore } from '@seismo/alerting/testing';
import { type AnomalyEvent } from '@seismo/engine/pipeline/anomaly-event';
import { parseTenantId } from '@seismo/storage';
import { AnomalyFeed } from '../stream/anomaly.feed';
import { AlertingService, type AlertingServiceOptions } from './alerting.service';
import { type TriageDecision } from './anomaly.triager';

const ACME = parseTenantId('acme');
const NOW = Date.UTC(2026, 11, 6, 12);
const MINUTE = 60_000;

function subscription(id: string, extra: Partial<Subscription> = {}): Subscription {
  return {
    id,
    tenantId: ACME,
    name: id,
    filter: {},
    target: { kind: 'webhook', url: 'https://hooks.example/x', secret: 'whsec_x' },
    ratePerHour: 60,
    createdAt: 0,
    ...extra,
  };
}

function event(id: string, series: string, at: number, score = 0.95): AnomalyEvent {
  return {
    v: 1,
    tenant_id: 'acme',
    id,
    series,
    ts: new Date(at).toISOString(),
    value: 400,
    score,
    severity: score >= 0.9 ? 'critical' : 'warning',
    detectors: ['ensemble'],
    context: { ts: [new Date(at - MINUTE).toISOString(), new Date(at).toISOString()], values: [50, 400] },
  };
}

/** A channel that records what it was asked to send, and answers 200. */
class RecordingChannel implements Channel {
  readonly kind = 'webhook' as const;
  readonly sent: Delivery[] = [];
  async send(delivery: Delivery) {
    this.sent.push(delivery);
    return { ok: true as const, status: 200 };
  }
}

function world(
  options: {
    subscriptions?: Subscription[];
    suppress?: (series: string) => boolean;
    watched?: boolean;
    ready?: () => boolean;
    triage?: AlertingServiceOptions['triage'];
  } = {},
) {
  let now = NOW;
  const feed = new AnomalyFeed();
  const store = new MemoryDeliveryStore();
  const channel = new RecordingChannel();
  const dispatcher = new DeliveryDispatcher(store, { channelFor: () => channel, now: () => now, flushMs: 1 });
  const router = new AlertRouter({
    subscriptionsOf: () => options.subscriptions ?? [subscription('sub_all')],
    silencesOf: () => [],
  });
  const service = new AlertingService(feed, new IncidentTracker(), router, dispatcher, {
    clock: () => now,
    tickMs: 60_000,
    silence: {
      watch: new SilenceWatch(),
      watches: () => options.watched ?? true,
      ...(options.ready ? { ready: options.ready } : {}),
    },
    ...(options.triage ? { triage: options.triage } : {}),
    ...(options.suppress
      ? { suppresses: (c) => (options.suppress?.(c.series) ? { by: 'an_labelled' } : undefined) }
      : {}),
  });
  return {
    feed,
    store,
    channel,
    service,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

async function sentEventually(channel: RecordingChannel, count: number): Promise<void> {
  for (let i = 0; i < 1000 && channel.sent.length < count; i++) await new Promise((r) => setTimeout(r, 2));
}

describe('AlertingService', () => {
  it('turns an anomaly on the feed into one stored, sent delivery per subscription that wants it', async () => {
    const { feed, store, channel, service } = world({
      subscriptions: [
        subscription('sub_cpu', { filter: { series: 'cpu' } }),
        subscription('sub_disk', { filter: { series: 'disk' } }),
      ],
    });
    await service.start();
    feed.publish(event('an_1', 'cpu{host="a"}', NOW));
    await service.settled();
    await sentEventually(channel, 1);
    await service.stop();
    expect([...store.rows.values()].map((r) => r.subscriptionId)).toEqual(['sub_cpu']);
    expect(channel.sent).toHaveLength(1);
    expect(channel.sent[0].notification).toMatchObject({ state: 'opened', anomalyIds: ['an_1'] });
    expect(service.counts).toMatchObject({ notifications: 1, deliveries: 1 });
  });

  it('folds the next anomalies of the series into the open incident, and tells its resolution', async () => {
    const { feed, channel, service, advance } = world();
    await service.start();
    feed.publish(event('an_1', 'cpu{host="a"}', NOW));
    feed.publish(event('an_2', 'cpu{host="a"}', NOW + 1000));
    await service.settled();
    await sentEventually(channel, 1);
    expect(channel.sent.map((d) => d.notification.state)).toEqual(['opened']);
    advance(60 * MINUTE);
    service.tick();
    await service.settled();
    await sentEventually(channel, 2);
    await service.stop();
    expect(channel.sent.map((d) => d.notification.state)).toEqual(['opened', 'resolved']);
  });

  it('keeps quiet about an anomaly feedback suppresses, and stops following the feed once stopped', async () => {
    const { feed, store, service } = world({ suppress: (series) => series.startsWith('noisy') });
    await service.start();
    feed.publish(event('an_1', 'noisy{host="a"}', NOW));
    await service.settled();
    expect(service.counts).toMatchObject({ suppressed: 1, notifications: 0 });
    await service.stop();
    feed.publish(event('an_2', 'cpu{host="a"}', NOW));
    await service.settled();
    expect(store.rows.size).toBe(0);
    expect(feed.watched('acme')).toBe(false);
  });

  it('opens a no_data incident for a series that went silent, and resolves it when the series reports again', async () => {
    const { channel, service, advance } = world();
    await service.start();
    expect(service.watches(ACME)).toBe(true);
    for (let i = 0; i < 12; i++) {
      service.seen(ACME, [{ series: 'cpu{host="a"}', ts: NOW + i * 10_000, value: i }]);
      advance(10_000);
    }
    service.tick();
    expect(service.counts.notifications).toBe(0);
    advance(2 * MINUTE);
    service.tick();
    await service.settled();
    await sentEventually(channel, 1);
    service.seen(ACME, [{ series: 'cpu{host="a"}', ts: NOW + 20 * MINUTE, value: 3 }]);
    await service.settled();
    await sentEventually(channel, 2);
    await service.stop();
    expect(channel.sent.map((d) => `${d.notification.kind}:${d.notification.state}`)).toEqual([
      'no_data:opened',
      'no_data:resolved',
    ]);
  });

  it('declares no series silent while the arrivals are not current, and learns the cadence from the times given', async () => {
    let current = false;
    const { channel, service, advance } = world({ ready: () => current });
    await service.start();
    // Arrivals read from the points topic carry their message's time, not the reader's.
    for (let i = 0; i < 12; i++) {
      service.seen(ACME, [{ series: 'cpu{host="a"}', ts: NOW + i * 10_000, value: i }], NOW + i * 10_000);
    }
    advance(10 * MINUTE);
    service.tick();
    await service.settled();
    expect(service.counts.notifications).toBe(0);
    current = true;
    service.tick();
    await service.settled();
    await sentEventually(channel, 1);
    await service.stop();
    expect(channel.sent.map((d) => `${d.notification.kind}:${d.notification.state}`)).toEqual([
      'no_data:opened',
    ]);
  });

  it('keeps the deliveries of a failed outbox write and stores them with the next try', async () => {
    const { feed, store, channel, service } = world();
    await service.start();
    const enqueue = store.enqueue.bind(store);
    let failures = 1;
    store.enqueue = async (records) => {
      if (failures-- > 0) throw new Error('ClickHouse is down');
      return enqueue(records);
    };
    feed.publish(event('an_1', 'cpu{host="h1"}', NOW));
    await service.settled();
    expect(store.rows.size).toBe(0);
    for (let i = 0; i < 300 && channel.sent.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await service.stop();
    expect(channel.sent.map((d) => `${d.notification.kind}:${d.notification.state}`)).toEqual([
      'anomaly:opened',
    ]);
  });

  it('writes what is routed while an outbox write is in flight in one next write, in order', async () => {
    const { feed, store, service } = world();
    await service.start();
    const writes: string[][] = [];
    const enqueue = store.enqueue.bind(store);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    store.enqueue = async (records) => {
      writes.push(records.map((r) => r.notification.anomalyIds[0]));
      if (writes.length === 1) await held;
      return enqueue(records);
    };
    feed.publish(event('an_1', 'cpu{host="h1"}', NOW));
    await new Promise((r) => setTimeout(r, 5));
    for (let i = 2; i <= 5; i++) feed.publish(event(`an_${i}`, `cpu{host="h${i}"}`, NOW));
    await new Promise((r) => setTimeout(r, 5));
    expect(writes).toHaveLength(1);
    release();
    await service.settled();
    await service.stop();
    expect(writes).toEqual([['an_1'], ['an_2', 'an_3', 'an_4', 'an_5']]);
    expect(store.rows.size).toBe(5);
  });

  describe('with LLM triage', () => {
    const done = (verdict: 'anomaly' | 'expected', severity: 'info' | 'warning' | 'critical') => ({
      status: 'done' as const,
      verdict,
      severity,
      explanation: 'Checkout success fell by 5% in a minute.',
      likelyCause: 'payment provider',
      confidence: 0.8,
      model: 'fake',
      cached: false,
    });

    function triaging(decide: (id: string) => TriageDecision | Promise<TriageDecision>) {
      const judged: string[] = [];
      return {
        judged,
        triage: {
          settingsOf: (tenant: string) => (tenant === 'acme' ? {} : undefined),
          judge: async (e: AnomalyEvent) => {
            judged.push(e.id);
            return decide(e.id);
          },
        },
      };
    }

    it('sends the alert with the verdict and the severity triage lowered it to', async () => {
      const { judged, triage } = triaging(() => ({
        triage: done('anomaly', 'warning'),
        severity: 'warning',
        quiet: undefined,
      }));
      const { feed, channel, service } = world({ triage });
      await service.start();
      feed.publish(event('an_1', 'checkout_success', NOW));
      await service.triaged();
      await sentEventually(channel, 1);
      await service.stop();
      expect(judged).toEqual(['an_1']);
      const sent = channel.sent[0].notification;
      expect(sent.severity).toBe('warning');
      expect(sent.series[0].triage).toMatchObject({ status: 'done', verdict: 'anomaly' });
      expect(sent.summary).toContain('Checkout success fell by 5% in a minute.');
      expect(service.counts).toMatchObject({ triaged: 1, notifications: 1 });
    });

    it('keeps an expected anomaly quiet under the suppress policy, and a skipped one alerts', async () => {
      const { triage } = triaging((id) =>
        id === 'an_expected'
          ? { triage: done('expected', 'info'), severity: 'info', quiet: 'expected' }
          : { triage: { status: 'skipped', reason: 'circuit_open' }, severity: 'critical', quiet: undefined },
      );
      const { feed, channel, service } = world({ triage });
      await service.start();
      feed.publish(event('an_expected', 'batch_runtime{host="a"}', NOW));
      feed.publish(event('an_skipped', 'cpu{host="b"}', NOW));
      await service.triaged();
      await sentEventually(channel, 1);
      await service.stop();
      expect(channel.sent.map((d) => d.notification.anomalyIds)).toEqual([['an_skipped']]);
      expect(channel.sent[0].notification.series[0].triage).toEqual({
        status: 'skipped',
        reason: 'circuit_open',
      });
      expect(service.counts).toMatchObject({ triaged: 2, expectedQuiet: 1, notifications: 1 });
    });

    it('alerts without a verdict when the triager fails, and leaves tenants without triage alone', async () => {
      const { judged, triage } = triaging(() => {
        throw new Error('provider exploded');
      });
      const { feed, channel, service } = world({ triage });
      await service.start();
      feed.publish(event('an_1', 'cpu{host="a"}', NOW));
      feed.publish({ ...event('an_2', 'cpu{host="z"}', NOW), tenant_id: 'globex' });
      await service.triaged();
      await sentEventually(channel, 2);
      await service.stop();
      expect(judged).toEqual(['an_1']);
      const byAnomaly = new Map(channel.sent.map((d) => [d.notification.anomalyIds[0], d.notification]));
      expect(byAnomaly.get('an_1')?.series[0].triage).toEqual({ status: 'skipped', reason: 'failed' });
      expect(byAnomaly.get('an_2')?.series[0].triage).toBeUndefined();
    });

    it('waits on stop for the anomalies still being triaged', async () => {
      let answer: (d: TriageDecision) => void = () => undefined;
      const { triage } = triaging(() => new Promise<TriageDecision>((resolve) => (answer = resolve)));
      const { feed, store, service } = world({ triage });
      await service.start();
      feed.publish(event('an_1', 'cpu{host="a"}', NOW));
      await new Promise((r) => setTimeout(r, 2));
      const stopped = service.stop();
      answer({ triage: { status: 'skipped', reason: 'stopped' }, severity: 'critical', quiet: undefined });
      await stopped;
      expect([...store.rows.values()].map((r) => r.notification.anomalyIds)).toEqual([['an_1']]);
    });
  });

  describe('with an incident store, across a restart', () => {
    /** What outlives a process: the outbox, the incidents table, the clock, the subscriptions. */
    function shared(subscriptions: Subscription[] = [subscription('sub_a')]) {
      const log: string[] = [];
      const outbox = new MemoryDeliveryStore();
      const incidents = new MemoryIncidentStore();
      const enqueue = outbox.enqueue.bind(outbox);
      outbox.enqueue = async (records) => {
        log.push(`outbox:${records.map((r) => r.notification.state).join(',')}`);
        return enqueue(records);
      };
      const write = incidents.write.bind(incidents);
      incidents.write = async (rows) => {
        log.push(`incidents:${rows.map((r) => (r.incident.open ? 'open' : 'closed')).join(',')}`);
        return write(rows);
      };
      return { log, errors: [] as string[], outbox, incidents, subscriptions, clock: { now: NOW } };
    }

    /** One API process over what `shared` keeps. */
    function process(world: ReturnType<typeof shared>) {
      const feed = new AnomalyFeed();
      const channel = new RecordingChannel();
      const now = () => world.clock.now;
      const dispatcher = new DeliveryDispatcher(world.outbox, { channelFor: () => channel, now, flushMs: 1 });
      const router = new AlertRouter({ subscriptionsOf: () => world.subscriptions, silencesOf: () => [] });
      const service = new AlertingService(
        feed,
        new IncidentTracker({ recordChanges: true }),
        router,
        dispatcher,
        {
          clock: now,
          tickMs: 60_000,
          incidents: world.incidents,
          silence: { watch: new SilenceWatch(), watches: () => true },
          logger: { log: () => undefined, error: (message: unknown) => world.errors.push(String(message)) },
        },
      );
      return { feed, channel, service };
    }

    const sentOf = (channel: RecordingChannel) =>
      channel.sent.map((d) => `${d.subscriptionId}:${d.notification.state}`);

    it('stores an incident after its deliveries, and carries it on after a restart: no second opened, the resolution to those told', async () => {
      const world = shared();
      const first = process(world);
      await first.service.start();
      first.feed.publish(event('an_1', 'cpu{host="a"}', NOW));
      await first.service.settled();
      await sentEventually(first.channel, 1);
      await first.service.stop();
      expect(world.log).toEqual(['outbox:opened', 'incidents:open']);
      const [row] = world.incidents.rows.values();
      expect(row.told).toEqual({ sub_a: NOW });
      const incidentId = first.channel.sent[0].notification.incidentId;

      // Made while no process ran: it matches the incident but was never told of it.
      world.subscriptions.push(subscription('sub_late'));
      world.clock.now += 2 * MINUTE;
      const second = process(world);
      await second.service.start();
      second.feed.publish(event('an_2', 'cpu{host="a"}', world.clock.now));
      await second.service.settled();
      expect(world.outbox.rows.size).toBe(1);
      // The quiet fold moved the clock that resolves it, and that is stored too.
      expect(world.incidents.rows.get(`acme\n${incidentId}`)?.incident.lastAnomalyAt).toBe(world.clock.now);

      world.clock.now += 9 * MINUTE;
      second.service.tick();
      await second.service.settled();
      expect(second.channel.sent).toEqual([]);
      world.clock.now += MINUTE;
      second.service.tick();
      await second.service.settled();
      await sentEventually(second.channel, 1);
      await second.service.stop();
      expect(sentOf(second.channel)).toEqual(['sub_a:resolved']);
      expect(second.channel.sent[0].notification.incidentId).toBe(incidentId);
      expect(await world.incidents.loadOpen()).toEqual([]);
      expect(world.log.slice(-2)).toEqual(['outbox:resolved', 'incidents:closed']);
    });

    it('stores an update held back for the once-a-minute spacing with its incident, and sends it after a restart with the delivery id it had', async () => {
      const world = shared();
      const first = process(world);
      await first.service.start();
      first.feed.publish(event('an_1', 'cpu{host="a"}', NOW));
      await first.service.settled();
      await sentEventually(first.channel, 1);
      world.clock.now += 10_000;
      // Joins the incident 10 s after sub_a was told of it: held back until the minute is over.
      first.feed.publish(event('an_2', 'mem{host="a"}', world.clock.now));
      await first.service.settled();
      await first.service.stop();
      expect(sentOf(first.channel)).toEqual(['sub_a:opened']);
      const [row] = world.incidents.rows.values();
      expect(row.held).toMatchObject({
        notification: { state: 'updated', anomalyIds: expect.arrayContaining(['an_2']) as string[] },
        subscriptions: ['sub_a'],
      });

      world.clock.now += 20_000;
      const second = process(world);
      await second.service.start();
      await second.service.settled();
      expect(second.channel.sent).toEqual([]);
      world.clock.now += 30_000;
      second.service.tick();
      await second.service.settled();
      await sentEventually(second.channel, 1);
      await second.service.stop();
      expect(sentOf(second.channel)).toEqual(['sub_a:updated']);
      expect(second.channel.sent[0].id).toBe(deliveryOf(row.held!.notification, subscription('sub_a')).id);
    });

    it('sends a held update that went out before the restart no second time', async () => {
      const world = shared();
      const first = process(world);
      await first.service.start();
      first.feed.publish(event('an_1', 'cpu{host="a"}', NOW));
      world.clock.now += 10_000;
      first.feed.publish(event('an_2', 'mem{host="a"}', world.clock.now));
      await first.service.settled();
      world.clock.now += 50_000;
      first.service.tick();
      await first.service.settled();
      await sentEventually(first.channel, 2);
      await first.service.stop();
      expect(sentOf(first.channel)).toEqual(['sub_a:opened', 'sub_a:updated']);
      // Nothing about the incident changed since: its row still holds the update as held.
      expect([...world.incidents.rows.values()][0].held?.subscriptions).toEqual(['sub_a']);

      world.clock.now += MINUTE;
      const second = process(world);
      await second.service.start();
      await second.service.settled();
      await second.service.stop();
      expect(second.channel.sent).toEqual([]);
      expect(world.outbox.rows.size).toBe(2);
    });

    it('tells at start what came due while no process ran', async () => {
      const world = shared();
      const first = process(world);
      await first.service.start();
      first.feed.publish(event('an_1', 'cpu{host="a"}', NOW));
      await first.service.settled();
      await first.service.stop();

      world.clock.now += 30 * MINUTE;
      const second = process(world);
      await second.service.start();
      await second.service.settled();
      await sentEventually(second.channel, 1);
      await second.service.stop();
      expect(sentOf(second.channel)).toEqual(['sub_a:resolved']);
    });

    it('resolves a restored no_data incident when its series reports again', async () => {
      const world = shared();
      const first = process(world);
      await first.service.start();
      for (let i = 0; i < 12; i++) {
        first.service.seen(ACME, [{ series: 'cpu{host="a"}', ts: world.clock.now, value: i }]);
        world.clock.now += 10_000;
      }
      world.clock.now += 2 * MINUTE;
      first.service.tick();
      await first.service.settled();
      await first.service.stop();
      expect(world.log).toEqual(['outbox:opened', 'incidents:open']);

      const second = process(world);
      await second.service.start();
      world.clock.now += 5 * MINUTE;
      second.service.seen(ACME, [{ series: 'cpu{host="a"}', ts: world.clock.now, value: 3 }]);
      await second.service.settled();
      await sentEventually(second.channel, 1);
      await second.service.stop();
      expect(second.channel.sent.map((d) => `${d.notification.kind}:${d.notification.state}`)).toEqual([
        'no_data:resolved',
      ]);
    });

    it('keeps an incident whose write failed for the next write', async () => {
      const world = shared();
      const { feed, service } = process(world);
      await service.start();
      world.incidents.failWrites = new Error('ClickHouse is down');
      feed.publish(event('an_1', 'cpu{host="a"}', NOW));
      await service.settled();
      expect(world.incidents.rows.size).toBe(0);
      expect(world.errors).toEqual([expect.stringContaining('1 incidents could not be stored')]);
      world.incidents.failWrites = undefined;
      service.tick();
      await service.settled();
      await service.stop();
      expect([...world.incidents.rows.values()].map((r) => r.incident.open)).toEqual([true]);
    });

    it('refuses a store with a tracker that keeps no changes', () => {
      const world = shared();
      const dispatcher = new DeliveryDispatcher(world.outbox, { channelFor: () => new RecordingChannel() });
      const router = new AlertRouter({ subscriptionsOf: () => [], silencesOf: () => [] });
      expect(
        () =>
          new AlertingService(new AnomalyFeed(), new IncidentTracker(), router, dispatcher, {
            incidents: world.incidents,
          }),
      ).toThrow(/recordChanges/);
    });
  });

  it('tells the ingest path not to report the arrivals of a tenant nobody subscribed for', () => {
    const { service } = world({ watched: false });
    expect(service.watches(ACME)).toBe(false);
  });
});
