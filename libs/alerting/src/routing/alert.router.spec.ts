import { parseTenantId, type TenantId } from '@seismo/storage';
import { type Notification } from '../notification';
import { type Silence, type Subscription } from '../subscriptions/subscription';
import { deliveryOf } from '../delivery/delivery';
import { AlertRouter, type HeldNotification, type RoutingSources } from './alert.router';

const TENANT = parseTenantId('t_router');
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 11, 5, 12);

function subscription(id: string, extra: Partial<Subscription> = {}): Subscription {
  return {
    id,
    tenantId: TENANT,
    name: id,
    filter: {},
    target: { kind: 'webhook', url: 'https://hooks.example/x', secret: 'whsec_x' },
    ratePerHour: 60,
    createdAt: 0,
    ...extra,
  };
}

function notification(state: Notification['state'], extra: Partial<Notification> = {}): Notification {
  return {
    id: `inc_1:${state}:0`,
    tenantId: TENANT,
    incidentId: 'inc_1',
    kind: 'anomaly',
    state,
    severity: 'warning',
    title: 'cpu anomalous',
    summary: 'cpu anomalous',
    openedAt: NOW,
    at: NOW,
    series: [
      {
        series: 'cpu{host="web-1"}',
        metric: 'cpu',
        labels: { host: 'web-1' },
        ts: NOW,
        value: 99,
        score: 0.8,
        detectors: ['ensemble'],
      },
    ],
    anomalyIds: ['an_1'],
    links: {},
    ...extra,
  };
}

class Sources implements RoutingSources {
  constructor(
    public subscriptions: Subscription[],
    public silences: Silence[] = [],
  ) {}
  subscriptionsOf(tenant: TenantId): readonly Subscription[] {
    return this.subscriptions.filter((s) => s.tenantId === tenant);
  }
  silencesOf(): readonly Silence[] {
    return this.silences;
  }
}

describe('AlertRouter', () => {
  it('delivers to every subscription whose filter matches one of the series, with stable ids', () => {
    const sources = new Sources([
      subscription('sub_all'),
      subscription('sub_cpu', { filter: { series: 'cpu' } }),
      subscription('sub_disk', { filter: { series: 'disk*' } }),
      subscription('sub_critical', { filter: { minSeverity: 'critical' } }),
      subscription('sub_web', { filter: { labels: { host: 'web-*' } } }),
      subscription('sub_rcf', { filter: { detectors: ['rcf'] } }),
    ]);
    const routed = new AlertRouter(sources).route(notification('opened'), NOW);
    expect(routed.deliveries.map((d) => d.subscriptionId)).toEqual(['sub_all', 'sub_cpu', 'sub_web']);
    const again = new AlertRouter(sources).route(notification('opened'), NOW);
    expect(again.deliveries.map((d) => d.id)).toEqual(routed.deliveries.map((d) => d.id));
    expect(new Set(routed.deliveries.map((d) => d.id)).size).toBe(3);
    expect(routed.deliveries[0]).toEqual(deliveryOf(notification('opened'), sources.subscriptions[0]));
    expect(routed.deliveries[0].idempotencyKey).toBe(routed.deliveries[0].id);
  });

  it('delivers an email once per recipient, each with its own stable id, counting one notification against the rate', () => {
    const email = subscription('sub_mail', {
      target: { kind: 'email', to: ['a@acme.example', 'b@acme.example', 'a@acme.example'] },
      ratePerHour: 1,
    });
    const router = new AlertRouter(new Sources([email]));
    const routed = router.route(notification('opened'), NOW);
    expect(routed.deliveries.map((d) => d.target)).toEqual([
      { kind: 'email', to: ['a@acme.example'] },
      { kind: 'email', to: ['b@acme.example'] },
    ]);
    expect(routed.deliveries.map((d) => d.subscriptionId)).toEqual(['sub_mail', 'sub_mail']);
    expect(new Set(routed.deliveries.map((d) => d.id)).size).toBe(2);
    const again = new AlertRouter(new Sources([email])).route(notification('opened'), NOW);
    expect(again.deliveries.map((d) => d.id)).toEqual(routed.deliveries.map((d) => d.id));
    // The one token of the hour went to that notification, not one per recipient.
    const other = notification('opened', { id: 'inc_2:opened:1', incidentId: 'inc_2' });
    expect(router.route(other, NOW + 1000)).toMatchObject({ deliveries: [], rateLimited: 1 });
    expect(router.route(notification('resolved'), NOW + 2000).deliveries.map((d) => d.target)).toEqual(
      routed.deliveries.map((d) => d.target),
    );
  });

  it('never routes to another tenant', () => {
    const other = subscription('sub_other', { tenantId: parseTenantId('t_other') });
    const routed = new AlertRouter(new Sources([other])).route(notification('opened'), NOW);
    expect(routed.deliveries).toEqual([]);
  });

  it('holds a notification back while the subscription is muted, and sends again after', () => {
    const sources = new Sources([subscription('sub_a', { mutedUntil: NOW + HOUR })]);
    const router = new AlertRouter(sources);
    expect(router.route(notification('opened'), NOW)).toMatchObject({ deliveries: [], muted: 1 });
    expect(router.route(notification('renotified'), NOW + HOUR).deliveries).toHaveLength(1);
  });

  it('holds a notification back when a silence covers every series of it, not when it covers some', () => {
    const silence: Silence = {
      id: 'sil_1',
      tenantId: TENANT,
      matchers: { labels: { host: 'web-1' } },
      startsAt: NOW - HOUR,
      endsAt: NOW + HOUR,
      comment: '',
      createdBy: 'deployment-admin',
      createdAt: 0,
    };
    const sources = new Sources([subscription('sub_a')], [silence]);
    expect(new AlertRouter(sources).route(notification('opened'), NOW)).toMatchObject({
      deliveries: [],
      silenced: 1,
    });
    const two = notification('opened', {
      series: [
        ...notification('opened').series,
        {
          series: 'cpu{host="web-2"}',
          metric: 'cpu',
          labels: { host: 'web-2' },
          ts: NOW,
          value: 1,
          score: 0.9,
        },
      ],
    });
    expect(new AlertRouter(sources).route(two, NOW).deliveries).toHaveLength(1);
  });

  it('keeps to the hourly rate, refilling over the hour', () => {
    const sources = new Sources([subscription('sub_a', { ratePerHour: 2 })]);
    const router = new AlertRouter(sources);
    // One incident each: updates of one incident are also spaced by minUpdateIntervalMs.
    const sent = (at: number, n: number) =>
      router.route(notification('opened', { id: `inc_${n}:opened:1`, incidentId: `inc_${n}` }), at).deliveries
        .length;
    expect([sent(NOW, 1), sent(NOW, 2), sent(NOW, 3)]).toEqual([1, 1, 0]);
    expect(sent(NOW + HOUR / 4, 4)).toBe(0);
    expect(sent(NOW + HOUR / 2, 5)).toBe(1);
  });

  it('sends the recovery to those told of the incident, through mutes and rates, and forgets it then', () => {
    const sources = new Sources([subscription('sub_a', { ratePerHour: 1 }), subscription('sub_b')]);
    const router = new AlertRouter(sources);
    expect(router.route(notification('opened'), NOW).deliveries).toHaveLength(2);
    // Made after the incident opened: not told, so no recovery for it.
    sources.subscriptions.push(subscription('sub_c'));
    sources.subscriptions[0] = { ...sources.subscriptions[0], mutedUntil: NOW + HOUR };
    const resolved = router.route(notification('resolved'), NOW + 1);
    expect(resolved.deliveries.map((d) => d.subscriptionId)).toEqual(['sub_a', 'sub_b']);
    // Memory of the incident is gone: a second recovery (a replay) goes to every matching subscription.
    expect(router.route(notification('resolved'), NOW + 2).deliveries.map((d) => d.subscriptionId)).toEqual([
      'sub_a',
      'sub_b',
      'sub_c',
    ]);
  });

  it('tells a subscription of a grouped incident once a series it wants joins, at once', () => {
    const sources = new Sources([
      subscription('sub_all'),
      subscription('sub_latency', { filter: { series: 'latency' } }),
    ]);
    const router = new AlertRouter(sources);
    expect(router.route(notification('opened'), NOW).deliveries.map((d) => d.subscriptionId)).toEqual([
      'sub_all',
    ]);
    const joined = notification('updated', {
      id: 'inc_1:updated:2',
      series: [
        ...notification('opened').series,
        { ...notification('opened').series[0], series: 'latency{host="web-1"}', metric: 'latency' },
      ],
    });
    const routed = router.route(joined, NOW + 1000);
    // sub_all was told a second ago: its update waits; sub_latency hears of the incident now.
    expect(routed.deliveries.map((d) => d.subscriptionId)).toEqual(['sub_latency']);
    expect(routed.deliveries[0].notification).toMatchObject({ state: 'opened', id: 'inc_1:opened:2' });
  });

  it('spaces the updates of one incident to one subscription, sending the latest held one when due', () => {
    const sources = new Sources([subscription('sub_a')]);
    const router = new AlertRouter(sources, { minUpdateIntervalMs: 60_000 });
    router.route(notification('opened'), NOW);
    expect(router.route(notification('updated', { id: 'inc_1:updated:2' }), NOW + 1000).deliveries).toEqual(
      [],
    );
    expect(router.route(notification('updated', { id: 'inc_1:updated:3' }), NOW + 2000).deliveries).toEqual(
      [],
    );
    expect(router.tick(NOW + 30_000)).toEqual([]);
    const [released] = router.tick(NOW + 60_000);
    expect(released.deliveries.map((d) => d.notification.id)).toEqual(['inc_1:updated:3']);
    expect(router.tick(NOW + 200_000)).toEqual([]);
    // Due again: an update goes out at once.
    expect(
      router.route(notification('updated', { id: 'inc_1:updated:4' }), NOW + 120_000).deliveries,
    ).toHaveLength(1);
  });

  it('drops what it held for an incident that resolves: the recovery tells the rest', () => {
    const router = new AlertRouter(new Sources([subscription('sub_a')]));
    router.route(notification('opened'), NOW);
    router.route(notification('updated', { id: 'inc_1:updated:2' }), NOW + 1000);
    expect(router.route(notification('resolved'), NOW + 2000).deliveries).toHaveLength(1);
    expect(router.tick(NOW + HOUR)).toEqual([]);
  });

  describe('across a restart', () => {
    const joined = notification('updated', {
      id: 'inc_1:updated:2',
      series: [
        ...notification('opened').series,
        { ...notification('opened').series[0], series: 'latency{host="web-1"}', metric: 'latency' },
      ],
    });

    it('hands over who was told of an incident, and when', () => {
      const router = new AlertRouter(new Sources([subscription('sub_a'), subscription('sub_b')]));
      expect(router.toldOf('inc_1')).toEqual({});
      router.route(notification('opened'), NOW);
      router.route(notification('renotified', { id: 'inc_1:renotified:2' }), NOW + HOUR);
      expect(router.toldOf('inc_1')).toEqual({ sub_a: NOW + HOUR, sub_b: NOW + HOUR });
      router.route(notification('resolved'), NOW + 2 * HOUR);
      expect(router.toldOf('inc_1')).toEqual({});
    });

    it('routes a restored incident as the router before the restart would: updates, spaced, and the recovery to those told', () => {
      const sources = new Sources([
        subscription('sub_a'),
        subscription('sub_latency', { filter: { series: 'latency' } }),
      ]);
      const before = new AlertRouter(sources);
      before.route(notification('opened'), NOW);
      const told = JSON.parse(JSON.stringify(before.toldOf('inc_1'))) as Record<string, number>;
      // Made while no process ran: it matches the incident but was never told of it.
      sources.subscriptions.push(subscription('sub_late'));

      const restarted = new AlertRouter(sources);
      restarted.restoreTold('inc_1', told);
      expect(restarted.toldOf('inc_1')).toEqual({ sub_a: NOW });
      // sub_a was told under a minute ago: its update waits; sub_latency and sub_late first hear of it now.
      const routed = restarted.route(joined, NOW + 1000);
      expect(routed.deliveries.map((d) => `${d.subscriptionId}:${d.notification.state}`)).toEqual([
        'sub_latency:opened',
        'sub_late:opened',
      ]);
      const [released] = restarted.tick(NOW + 60_000);
      expect(released.deliveries.map((d) => `${d.subscriptionId}:${d.notification.state}`)).toEqual([
        'sub_a:updated',
      ]);
      expect(
        restarted.route(notification('resolved'), NOW + HOUR).deliveries.map((d) => d.subscriptionId),
      ).toEqual(['sub_a', 'sub_latency', 'sub_late']);
    });

    it('hands over the update held back, which a restarted router sends when due with the same delivery ids', () => {
      const sources = new Sources([subscription('sub_a'), subscription('sub_b')]);
      const before = new AlertRouter(sources);
      expect(before.heldOf('inc_1')).toBeUndefined();
      before.route(notification('opened'), NOW);
      expect(before.route(joined, NOW + 1000).deliveries).toEqual([]);
      expect(before.heldOf('inc_1')).toEqual({ notification: joined, subscriptions: ['sub_a', 'sub_b'] });
      // What a store keeps: JSON, as the incidents table holds it.
      const told = JSON.parse(JSON.stringify(before.toldOf('inc_1'))) as Record<string, number>;
      const held = JSON.parse(JSON.stringify(before.heldOf('inc_1'))) as HeldNotification;

      const restarted = new AlertRouter(sources);
      restarted.restoreTold('inc_1', told);
      restarted.restoreHeld('inc_1', held);
      expect(restarted.heldOf('inc_1')).toEqual(held);
      expect(restarted.tick(NOW + 30_000)).toEqual([]);
      const [released] = restarted.tick(NOW + 60_000);
      const [unbroken] = before.tick(NOW + 60_000);
      expect(released.deliveries.map((d) => `${d.subscriptionId}:${d.notification.id}`)).toEqual([
        'sub_a:inc_1:updated:2',
        'sub_b:inc_1:updated:2',
      ]);
      expect(released.deliveries).toEqual(unbroken.deliveries);
      expect(restarted.heldOf('inc_1')).toBeUndefined();
      expect(restarted.tick(NOW + HOUR)).toEqual([]);
    });

    it('holds nothing for a subscription told of the held update since', () => {
      const router = new AlertRouter(new Sources([subscription('sub_a')]), { minUpdateIntervalMs: 60_000 });
      router.route(notification('opened'), NOW);
      router.route(joined, NOW + 1000);
      router.route(notification('updated', { id: 'inc_1:updated:3' }), NOW + 61_000);
      expect(router.heldOf('inc_1')).toBeUndefined();
    });

    it('sends the recovery of a restored incident only to those told, not to every subscription matching now', () => {
      const sources = new Sources([subscription('sub_a')]);
      const before = new AlertRouter(sources);
      before.route(notification('opened'), NOW);
      const told = before.toldOf('inc_1');
      sources.subscriptions.push(subscription('sub_late'));
      const restarted = new AlertRouter(sources);
      restarted.restoreTold('inc_1', told);
      const resolved = restarted.route(notification('resolved'), NOW + HOUR);
      expect(resolved.deliveries).toEqual(before.route(notification('resolved'), NOW + HOUR).deliveries);
      expect(resolved.deliveries.map((d) => d.subscriptionId)).toEqual(['sub_a']);
    });
  });

  it('rejects a negative update interval', () => {
    expect(() => new AlertRouter(new Sources([]), { minUpdateIntervalMs: -1 })).toThrow(
      /minUpdateIntervalMs/,
    );
  });
});
