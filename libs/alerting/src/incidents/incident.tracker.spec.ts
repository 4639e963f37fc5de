import { parseTenantId } from '@seismo/storage';
import { type Severity } from '../notification';
import {
  type IncidentPolicy,
  type IncidentSnapshot,
  IncidentTracker,
  type ObservedAnomaly,
} from './incident.tracker';

const ACME = parseTenantId('acme');
const GLOBEX = parseTenantId('globex');
const T0 = Date.UTC(2026, 11, 6, 12);
const MINUTE = 60_000;

let counter = 0;
function anomaly(series: string, extra: Partial<ObservedAnomaly> = {}): ObservedAnomaly {
  counter++;
  return {
    tenantId: ACME,
    id: `an_${counter}`,
    series,
    ts: T0,
    value: 400,
    score: 0.8,
    severity: 'warning' as Severity,
    detectors: ['ensemble'],
    ...extra,
  };
}

beforeEach(() => {
  counter = 0;
});

describe('IncidentTracker', () => {
  it('opens one incident per series and folds the next anomalies of that series into it quietly', () => {
    const tracker = new IncidentTracker();
    const [opened] = tracker.observe(anomaly('cpu{host="a"}'), T0);
    expect(opened).toMatchObject({
      tenantId: ACME,
      kind: 'anomaly',
      state: 'opened',
      severity: 'warning',
      title: 'cpu{host="a"} anomalous (warning)',
      openedAt: T0,
      at: T0,
      anomalyIds: ['an_1'],
      series: [{ series: 'cpu{host="a"}', metric: 'cpu', labels: { host: 'a' }, value: 400, score: 0.8 }],
      links: {},
    });
    expect(opened.id).toBe(`${opened.incidentId}:opened:1`);
    expect(opened.incidentId).toMatch(/^inc_[0-9a-f]{20}$/);
    expect(tracker.observe(anomaly('cpu{host="a"}'), T0 + 1000)).toEqual([]);
    expect(tracker.open(ACME)).toHaveLength(1);
  });

  it('tells at once when the incident gets worse, and not again at the same severity', () => {
    const tracker = new IncidentTracker();
    tracker.observe(anomaly('cpu{host="a"}'), T0);
    const [updated] = tracker.observe(
      anomaly('cpu{host="a"}', { severity: 'critical', score: 0.97 }),
      T0 + 1000,
    );
    expect(updated).toMatchObject({
      state: 'updated',
      severity: 'critical',
      title: 'cpu{host="a"} anomalous (critical)',
    });
    expect(updated.id).toBe(`${updated.incidentId}:updated:2`);
    expect(tracker.observe(anomaly('cpu{host="a"}', { severity: 'critical' }), T0 + 2000)).toEqual([]);
    expect(tracker.observe(anomaly('cpu{host="a"}', { severity: 'info' }), T0 + 3000)).toEqual([]);
  });

  it('groups series of one host into one incident, telling each series that joins it', () => {
    const tracker = new IncidentTracker();
    const [opened] = tracker.observe(anomaly('cpu{host="a"}'), T0);
    expect(tracker.observe(anomaly('latency{host="a",path="/"}'), T0 + 1000)).toMatchObject([
      { incidentId: opened.incidentId, state: 'updated', title: '2 series anomalous on host=a (warning)' },
    ]);
    const [updated] = tracker.observe(anomaly('disk{host="a"}'), T0 + 2000);
    expect(updated).toMatchObject({
      incidentId: opened.incidentId,
      state: 'updated',
      title: '3 series anomalous on host=a (warning)',
      anomalyIds: ['an_1', 'an_2', 'an_3'],
    });
    expect(updated.id).toBe(`${opened.incidentId}:updated:3`);
    expect(updated.summary).toBe(
      `cpu{host="a"}, latency{host="a",path="/"}, disk{host="a"} went anomalous together since ${new Date(T0).toISOString()}.`,
    );
    // A series already in it folds in quietly, its latest anomaly remembered.
    expect(tracker.observe(anomaly('cpu{host="a"}', { value: 500 }), T0 + 3000)).toEqual([]);
    expect(tracker.open(ACME)[0].series[0]).toMatchObject({ series: 'cpu{host="a"}', value: 500 });
    expect(tracker.tick(T0 + 5 * 60_000)).toEqual([]);
  });

  it('groups by service when a series has no host, and keeps series without either label apart', () => {
    const tracker = new IncidentTracker();
    const a = tracker.observe(anomaly('errors{service="checkout"}'), T0);
    const b = tracker.observe(anomaly('latency{service="checkout"}'), T0 + 1000);
    const c = tracker.observe(anomaly('sales'), T0 + 1000);
    const d = tracker.observe(anomaly('queue{env="prod"}'), T0 + 1000);
    expect(a).toHaveLength(1);
    expect(b).toMatchObject([{ incidentId: a[0].incidentId, state: 'updated' }]);
    expect(c).toMatchObject([
      { state: 'opened', series: [{ series: 'sales', metric: 'sales', labels: {} }] },
    ]);
    expect(d).toMatchObject([{ state: 'opened' }]);
    expect(new Set([a[0].incidentId, c[0].incidentId, d[0].incidentId]).size).toBe(3);
  });

  it('never folds one tenant into another', () => {
    const tracker = new IncidentTracker();
    const [a] = tracker.observe(anomaly('cpu{host="a"}'), T0);
    const [b] = tracker.observe(anomaly('cpu{host="a"}', { tenantId: GLOBEX }), T0);
    expect(b).toMatchObject({ tenantId: GLOBEX, state: 'opened' });
    expect(b.incidentId).not.toBe(a.incidentId);
    expect(tracker.open(GLOBEX)).toHaveLength(1);
    tracker.forgetTenant(GLOBEX);
    expect(tracker.open(GLOBEX)).toEqual([]);
    expect(tracker.open(ACME)).toHaveLength(1);
  });

  it('resolves after the quiet time, with a recovery notice, and opens a new incident after that', () => {
    const tracker = new IncidentTracker({ policy: { resolveAfterMs: 10 * MINUTE } });
    const [opened] = tracker.observe(anomaly('cpu{host="a"}'), T0);
    tracker.observe(anomaly('cpu{host="a"}'), T0 + 5 * MINUTE);
    expect(tracker.tick(T0 + 14 * MINUTE)).toEqual([]);
    const [resolved] = tracker.tick(T0 + 15 * MINUTE);
    expect(resolved).toMatchObject({
      incidentId: opened.incidentId,
      state: 'resolved',
      title: 'Resolved: cpu{host="a"} anomalous (warning)',
      resolvedAt: T0 + 15 * MINUTE,
      openedAt: T0,
    });
    expect(resolved.summary).toBe(
      `No anomaly for 10 min; the incident was open since ${new Date(T0).toISOString()}.`,
    );
    expect(tracker.open(ACME)).toEqual([]);
    const [again] = tracker.observe(anomaly('cpu{host="a"}'), T0 + 16 * MINUTE);
    expect(again.state).toBe('opened');
    expect(again.incidentId).not.toBe(opened.incidentId);
  });

  it('re-notifies an incident that stays open, counting from the last notification', () => {
    const tracker = new IncidentTracker({
      policy: { renotifyAfterMs: 30 * MINUTE, resolveAfterMs: 20 * MINUTE },
    });
    tracker.observe(anomaly('cpu{host="a"}'), T0);
    for (let m = 5; m < 30; m += 5) {
      tracker.observe(anomaly('cpu{host="a"}'), T0 + m * MINUTE);
      expect(tracker.tick(T0 + m * MINUTE)).toEqual([]);
    }
    expect(tracker.tick(T0 + 30 * MINUTE)).toMatchObject([{ state: 'renotified' }]);
    expect(tracker.tick(T0 + 31 * MINUTE)).toEqual([]);
  });

  it('gives the same ids to the same anomalies observed again, as after a restart', () => {
    const run = () => {
      counter = 0;
      const tracker = new IncidentTracker();
      return [
        ...tracker.observe(anomaly('cpu{host="a"}'), T0),
        ...tracker.observe(anomaly('cpu{host="a"}', { severity: 'critical' }), T0 + 1000),
        ...tracker.tick(T0 + 11 * MINUTE),
      ].map((n) => n.id);
    };
    const first = run();
    expect(first).toHaveLength(3);
    expect(run()).toEqual(first);
  });

  it('bounds its memory: open incidents per tenant and series listed per incident', () => {
    const tracker = new IncidentTracker({ policy: { maxOpenPerTenant: 2, maxSeriesPerIncident: 2 } });
    tracker.observe(anomaly('a'), T0);
    tracker.observe(anomaly('b'), T0);
    expect(tracker.observe(anomaly('c'), T0)).toEqual([]);
    expect(tracker.dropped).toBe(1);
    expect(tracker.observe(anomaly('c', { tenantId: GLOBEX }), T0)).toHaveLength(1);

    const wide = new IncidentTracker({ policy: { maxSeriesPerIncident: 2 } });
    wide.observe(anomaly('cpu{host="h"}'), T0);
    wide.observe(anomaly('mem{host="h"}'), T0);
    const [updated] = wide.observe(anomaly('disk{host="h"}'), T0);
    expect(updated.series).toHaveLength(2);
    expect(updated.title).toBe('3 series anomalous on host=h (warning)');
    expect(updated.summary).toContain('and 1 more');
  });

  it('puts the links of the latest anomaly on each notification', () => {
    const tracker = new IncidentTracker({
      linksFor: (tenant, anomalyId, series, ts) => ({
        series: `https://seismo.example/${tenant}/${series}?at=${ts}#${anomalyId}`,
      }),
    });
    tracker.observe(anomaly('cpu{host="a"}'), T0);
    const [updated] = tracker.observe(
      anomaly('cpu{host="a"}', { severity: 'critical', ts: T0 + 60_000 }),
      T0 + 1000,
    );
    expect(updated.links).toEqual({
      series: `https://seismo.example/acme/cpu{host="a"}?at=${T0 + 60_000}#an_2`,
    });
  });

  it('rejects a policy it cannot follow, naming the field', () => {
    expect(() => new IncidentTracker({ policy: { resolveAfterMs: 0 } })).toThrow(/resolveAfterMs/);
    expect(() => new IncidentTracker({ policy: { maxSeriesPerIncident: 1.5 } })).toThrow(
      /maxSeriesPerIncident/,
    );
    expect(() => new IncidentTracker({ policy: { groupBy: [''] } })).toThrow(/groupBy/);
  });

  describe('no data', () => {
    const silentCpu = {
      tenantId: ACME,
      series: 'cpu{host="a"}',
      lastTs: T0 - 10_000,
      lastValue: 42.5,
      lastArrivalAt: T0,
      usualGapMs: 10_000,
    };

    it('opens a no_data incident of its own when a series goes silent, and resolves it when it reports again', () => {
      const tracker = new IncidentTracker();
      tracker.observe(anomaly('latency{host="a"}'), T0);
      const [opened] = tracker.silent(silentCpu, T0 + 3 * MINUTE);
      expect(opened).toMatchObject({
        kind: 'no_data',
        state: 'opened',
        severity: 'warning',
        title: 'cpu{host="a"} stopped reporting',
        summary: `No point for 3 min (it reported about every 10 s); last value 42.5 at ${new Date(T0 - 10_000).toISOString()}.`,
        openedAt: T0,
        anomalyIds: [],
        series: [{ series: 'cpu{host="a"}', value: 42.5, ts: T0 - 10_000, detectors: ['no_data'] }],
      });
      // Not folded into the host's anomaly incident: a silence is another problem.
      expect(
        tracker
          .open(ACME)
          .map((i) => i.kind)
          .sort(),
      ).toEqual(['anomaly', 'no_data']);
      expect(tracker.silent(silentCpu, T0 + 4 * MINUTE)).toEqual([]);

      // Quiet resolves an anomaly incident, never a silence.
      const ticked = tracker.tick(T0 + 20 * MINUTE);
      expect(ticked.map((n) => `${n.kind}:${n.state}`)).toEqual(['anomaly:resolved']);

      const [resolved] = tracker.resumed(silentCpu, T0 + 25 * MINUTE);
      expect(resolved).toMatchObject({
        incidentId: opened.incidentId,
        kind: 'no_data',
        state: 'resolved',
        title: 'Resolved: cpu{host="a"} stopped reporting',
        summary: `Reporting again after 25 min of silence (since ${new Date(T0).toISOString()}).`,
      });
      expect(tracker.open(ACME)).toEqual([]);
      expect(tracker.resumed(silentCpu, T0 + 26 * MINUTE)).toEqual([]);
    });

    it('re-notifies a series that stays silent, and says so when it is given up', () => {
      const tracker = new IncidentTracker({ policy: { renotifyAfterMs: 60 * MINUTE } });
      const [opened] = tracker.silent(silentCpu, T0 + 3 * MINUTE);
      const [again] = tracker.tick(T0 + 63 * MINUTE);
      expect(again).toMatchObject({ incidentId: opened.incidentId, state: 'renotified', kind: 'no_data' });
      const [given] = tracker.resumed(silentCpu, T0 + 24 * 60 * MINUTE, true);
      expect(given.summary).toBe(
        `Silent for 1440 min since ${new Date(T0).toISOString()}: the series is no longer watched until it reports again.`,
      );
    });

    it('gives the same silence the same incident id, and counts silences toward the open limit', () => {
      const a = new IncidentTracker({ policy: { maxOpenPerTenant: 1 } });
      const b = new IncidentTracker();
      const [first] = a.silent(silentCpu, T0 + 3 * MINUTE);
      expect(b.silent(silentCpu, T0 + 5 * MINUTE)[0].incidentId).toBe(first.incidentId);
      expect(a.silent({ ...silentCpu, series: 'mem{host="a"}' }, T0 + 3 * MINUTE)).toEqual([]);
      expect(a.observe(anomaly('disk{host="b"}'), T0)).toEqual([]);
      expect(a.dropped).toBe(2);
    });
  });

  describe('snapshots, across a restart', () => {
    /** The snapshots as a store gives them back: through JSON. */
    const stored = (tracker: IncidentTracker): IncidentSnapshot[] =>
      JSON.parse(JSON.stringify(tracker.changes())) as IncidentSnapshot[];
    const recording = (policy: Partial<IncidentPolicy> = {}) =>
      new IncidentTracker({ policy, recordChanges: true });

    it('hands over each incident changed since the last call once, as it stands, a resolved one as not open', () => {
      expect(new IncidentTracker().changes()).toEqual([]);
      const tracker = recording({ resolveAfterMs: 10 * MINUTE });
      expect(tracker.recordsChanges).toBe(true);
      const [opened] = tracker.observe(anomaly('cpu{host="a"}'), T0);
      tracker.observe(anomaly('mem{host="a"}', { severity: 'critical' }), T0 + 1000);
      tracker.observe(anomaly('cpu{host="b"}'), T0 + 2000);
      expect(tracker.hasChanges).toBe(true);
      const first = tracker.changes();
      expect(first).toHaveLength(2);
      expect(first[0]).toMatchObject({
        version: 1,
        id: opened.incidentId,
        tenantId: ACME,
        kind: 'anomaly',
        group: 'host=a',
        open: true,
        openedAt: T0,
        severity: 'critical',
        toldSeverity: 'critical',
        series: [
          expect.objectContaining({ series: 'cpu{host="a"}', anomalyId: 'an_1' }),
          expect.objectContaining({ series: 'mem{host="a"}', anomalyId: 'an_2' }),
        ],
        latest: expect.objectContaining({ anomalyId: 'an_2' }),
        lastAnomalyAt: T0 + 1000,
        lastToldAt: T0 + 1000,
        sequence: 2,
        unlistedSeries: 0,
      });
      expect(tracker.hasChanges).toBe(false);
      expect(tracker.changes()).toEqual([]);

      // A quiet fold changes the clock that resolves it: that is a change to keep too.
      tracker.observe(anomaly('cpu{host="a"}'), T0 + 5 * MINUTE);
      expect(tracker.changes()).toMatchObject([{ id: opened.incidentId, lastAnomalyAt: T0 + 5 * MINUTE }]);
      tracker.tick(T0 + 15 * MINUTE);
      expect(tracker.changes()).toMatchObject([
        { id: opened.incidentId, open: false, sequence: 3 },
        { group: 'host=b', open: false, sequence: 2 },
      ]);
    });

    it('carries a restored incident on: its series folds in quietly or as an update, never as a new incident', () => {
      const before = recording();
      const [opened] = before.observe(anomaly('cpu{host="a"}'), T0);
      const restarted = recording();
      expect(restarted.restore(stored(before)).map((s) => s.id)).toEqual([opened.incidentId]);
      expect(restarted.open(ACME)).toEqual(before.open(ACME));
      expect(restarted.hasChanges).toBe(false);

      expect(restarted.observe(anomaly('cpu{host="a"}'), T0 + MINUTE)).toEqual([]);
      const [worse] = restarted.observe(anomaly('cpu{host="a"}', { severity: 'critical' }), T0 + 2 * MINUTE);
      expect(worse).toMatchObject({ incidentId: opened.incidentId, state: 'updated', openedAt: T0 });
      expect(worse.id).toBe(`${opened.incidentId}:updated:2`);
      const [joined] = restarted.observe(anomaly('mem{host="a"}'), T0 + 3 * MINUTE);
      expect(joined).toMatchObject({
        incidentId: opened.incidentId,
        state: 'updated',
        anomalyIds: ['an_3', 'an_4'],
      });
    });

    it('says after a restore exactly what the incident would have said without one', () => {
      const next = [
        (t: IncidentTracker) => t.observe(anomaly('disk{host="a"}', { id: 'an_x' }), T0 + 4 * MINUTE),
        (t: IncidentTracker) => t.tick(T0 + 10 * MINUTE),
        (t: IncidentTracker) => t.tick(T0 + 15 * MINUTE),
      ];
      const policy = { resolveAfterMs: 10 * MINUTE, maxSeriesPerIncident: 2 };
      const original = recording(policy);
      original.observe(anomaly('cpu{host="a"}'), T0);
      original.observe(anomaly('mem{host="a"}', { severity: 'critical' }), T0 + MINUTE);
      original.observe(anomaly('net{host="a"}'), T0 + 2 * MINUTE);
      const restarted = recording(policy);
      restarted.restore(stored(original));
      expect(restarted.open(ACME)[0].unlistedSeries).toBe(1);
      for (const step of next) expect(step(restarted)).toEqual(step(original));
      expect(restarted.open(ACME)).toEqual([]);
    });

    it('resolves a restored incident once quiet since its last anomaly, and re-notifies it from its last notification', () => {
      const before = recording({ resolveAfterMs: 10 * MINUTE, renotifyAfterMs: 30 * MINUTE });
      const [opened] = before.observe(anomaly('cpu{host="a"}'), T0);
      before.observe(anomaly('cpu{host="b"}'), T0);
      for (let m = 5; m <= 25; m += 5) before.observe(anomaly('cpu{host="b"}'), T0 + m * MINUTE);
      const restarted = recording({ resolveAfterMs: 10 * MINUTE, renotifyAfterMs: 30 * MINUTE });
      restarted.restore(stored(before));
      expect(restarted.tick(T0 + 9 * MINUTE)).toEqual([]);
      const [resolved] = restarted.tick(T0 + 10 * MINUTE);
      expect(resolved).toMatchObject({ incidentId: opened.incidentId, state: 'resolved', openedAt: T0 });
      expect(resolved.id).toBe(`${opened.incidentId}:resolved:2`);
      expect(restarted.tick(T0 + 30 * MINUTE)).toMatchObject([
        { state: 'renotified', title: 'cpu{host="b"} anomalous (warning)' },
      ]);
    });

    it('restores a no_data incident with its gap, and resolves it when the series reports again', () => {
      const silentCpu = {
        tenantId: ACME,
        series: 'cpu{host="a"}',
        lastTs: T0 - 10_000,
        lastValue: 42.5,
        lastArrivalAt: T0,
        usualGapMs: 10_000,
      };
      const before = recording({ renotifyAfterMs: 60 * MINUTE });
      const [opened] = before.silent(silentCpu, T0 + 3 * MINUTE);
      const restarted = recording({ renotifyAfterMs: 60 * MINUTE });
      const [restored] = restarted.restore(stored(before));
      expect(restored).toMatchObject({ kind: 'no_data', usualGapMs: 10_000, openedAt: T0 });
      expect(restarted.tick(T0 + 20 * MINUTE)).toEqual([]);
      expect(restarted.silent(silentCpu, T0 + 21 * MINUTE)).toEqual([]);
      const [again] = restarted.tick(T0 + 63 * MINUTE);
      expect(again.summary).toBe(before.tick(T0 + 63 * MINUTE)[0].summary);
      const [resolved] = restarted.resumed(silentCpu, T0 + 70 * MINUTE);
      expect(resolved).toMatchObject({ incidentId: opened.incidentId, kind: 'no_data', state: 'resolved' });
    });

    it('restores only open incidents, one per group, within the open limit, and refuses a version it does not know', () => {
      const before = recording();
      before.observe(anomaly('a'), T0);
      before.observe(anomaly('b'), T0);
      before.observe(anomaly('c'), T0);
      const snapshots = stored(before);
      const restarted = recording({ maxOpenPerTenant: 2 });
      const closed = { ...snapshots[0], open: false };
      expect(restarted.restore([closed, ...snapshots, snapshots[1]]).map((s) => s.group)).toEqual([
        'series:a',
        'series:b',
      ]);
      expect(restarted.dropped).toBe(1);
      const future = { ...snapshots[2], version: 2 } as unknown as IncidentSnapshot;
      expect(() => recording().restore([future])).toThrow(/version 2/);
    });

    it('forgets the changes of a tenant it forgets', () => {
      const tracker = recording();
      tracker.observe(anomaly('cpu{host="a"}'), T0);
      tracker.observe(anomaly('cpu{host="a"}', { tenantId: GLOBEX }), T0);
      tracker.forgetTenant(GLOBEX);
      expect(tracker.changes().map((s) => s.tenantId)).toEqual([ACME]);
    });
  });
});
