import { TenantDataRepository, type TenantId } from '@seismo/storage';
import { freshTenant, TestStorage } from '../../storage/test/storage.harness';
import { IncidentRepository, type StoredIncident } from '../src/incidents/incident.repository';
import { IncidentTracker, type ObservedAnomaly } from '../src/incidents/incident.tracker';

let storage: TestStorage;
let repository: IncidentRepository;
beforeAll(async () => {
  storage = await TestStorage.start();
  repository = new IncidentRepository(storage.connection);
});
afterAll(async () => {
  await storage.stop();
});

const T0 = Date.UTC(2026, 11, 6, 12);
const MINUTE = 60_000;

function anomaly(tenantId: TenantId, id: string, series: string, extra: Partial<ObservedAnomaly> = {}) {
  return {
    tenantId,
    id,
    series,
    ts: T0,
    value: 400,
    score: 0.95,
    severity: 'critical' as const,
    detectors: ['ensemble'],
    ...extra,
  };
}

const recording = () => new IncidentTracker({ policy: { resolveAfterMs: 10 * MINUTE }, recordChanges: true });

/** What the service writes: the tracker's changes, each with whom it was told of. */
const storedOf = (tracker: IncidentTracker, told: Record<string, number> = {}): StoredIncident[] =>
  tracker.changes().map((incident) => ({ incident, told }));

async function openOf(tenant: TenantId): Promise<StoredIncident[]> {
  return (await repository.loadOpen()).filter((s) => s.incident.tenantId === tenant);
}

describe('IncidentRepository (real embedded ClickHouse)', () => {
  it('loads back an open incident as the tracker snapshotted it, with whom the router told of it', async () => {
    const tenant = freshTenant();
    const tracker = recording();
    tracker.observe(anomaly(tenant, 'an-1', 'cpu{host="a"}'), T0);
    tracker.observe(
      anomaly(tenant, 'an-2', 'mem{host="a"}', { triage: { status: 'skipped', reason: 'tenant_budget' } }),
      T0 + 1000,
    );
    const written = storedOf(tracker, { 'sub-1': T0, 'sub-2': T0 + 1000 });
    await repository.write(written);
    expect(await openOf(tenant)).toEqual(written);
  });

  it('loads back the update held back with the incident, and nothing held once a later write holds none', async () => {
    const tenant = freshTenant();
    const tracker = recording();
    tracker.observe(anomaly(tenant, 'an-1', 'cpu{host="a"}'), T0);
    tracker.changes();
    const [update] = tracker.observe(anomaly(tenant, 'an-2', 'mem{host="a"}'), T0 + 1000);
    expect(update.state).toBe('updated');
    const [incident] = tracker.changes();
    const held = { notification: update, subscriptions: ['sub-1', 'sub-2'] };
    await repository.write([{ incident, told: { 'sub-1': T0, 'sub-2': T0 }, held }]);
    expect(await openOf(tenant)).toEqual([{ incident, told: { 'sub-1': T0, 'sub-2': T0 }, held }]);

    await repository.write([{ incident, told: { 'sub-1': T0 + MINUTE, 'sub-2': T0 + MINUTE } }]);
    const [loaded] = await openOf(tenant);
    expect(loaded).not.toHaveProperty('held');
  });

  it('reads a row written before migration 0018 (no held column given) as nothing held', async () => {
    const tenant = freshTenant();
    const tracker = recording();
    tracker.observe(anomaly(tenant, 'an-1', 'cpu{host="a"}'), T0);
    const [incident] = tracker.changes();
    await storage.connection.client.insert({
      table: 'incidents',
      values: [
        {
          tenant_id: tenant,
          id: incident.id,
          kind: incident.kind,
          open: 1,
          state: JSON.stringify(incident),
          told: { 'sub-1': T0 },
          opened_at: incident.openedAt,
          updated_at: T0,
          version: 1,
        },
      ],
      format: 'JSONEachRow',
    });
    expect(await openOf(tenant)).toEqual([{ incident, told: { 'sub-1': T0 } }]);
    const [loaded] = await openOf(tenant);
    expect(loaded).not.toHaveProperty('held');
  });

  it('answers the latest write of an incident, and leaves out a resolved one', async () => {
    const tenant = freshTenant();
    const tracker = recording();
    tracker.observe(anomaly(tenant, 'an-1', 'cpu{host="a"}'), T0);
    const [quiet] = tracker.observe(anomaly(tenant, 'an-2', 'disk{host="b"}'), T0);
    await repository.write(storedOf(tracker, { 'sub-1': T0 }));
    tracker.observe(anomaly(tenant, 'an-3', 'cpu{host="a"}'), T0 + 5 * MINUTE);
    await repository.write(storedOf(tracker, { 'sub-1': T0 }));
    const [latest, other] = await openOf(tenant);
    expect([latest, other].map((s) => s.incident.lastAnomalyAt).sort()).toEqual([T0, T0 + 5 * MINUTE]);

    tracker.tick(T0 + 12 * MINUTE);
    await repository.write(storedOf(tracker));
    const open = await openOf(tenant);
    // host=b was quiet for 12 minutes and resolved; host=a had an anomaly 7 minutes ago.
    expect(open.map((s) => s.incident.group)).toEqual(['host=a']);
    expect(open.some((s) => s.incident.id === quiet.incidentId)).toBe(false);
    const rows = await storage.rows<{ open: number; n: string }>(
      'SELECT open, count() AS n FROM incidents FINAL WHERE tenant_id = {tenant:String} GROUP BY open ORDER BY open',
      { tenant },
    );
    expect(rows.map((r) => [Number(r.open), Number(r.n)])).toEqual([
      [0, 1],
      [1, 1],
    ]);
  });

  it('restores a tracker from what it loads: the next anomaly of the series is no new incident, quiet resolves it', async () => {
    const tenant = freshTenant();
    const before = recording();
    const [opened] = before.observe(anomaly(tenant, 'an-1', 'cpu{host="a"}'), T0);
    await repository.write(storedOf(before, { 'sub-1': T0 }));

    const restarted = recording();
    const loaded = await openOf(tenant);
    expect(loaded.map((s) => s.told)).toEqual([{ 'sub-1': T0 }]);
    restarted.restore(loaded.map((s) => s.incident));
    expect(restarted.observe(anomaly(tenant, 'an-2', 'cpu{host="a"}'), T0 + MINUTE)).toEqual([]);
    expect(restarted.tick(T0 + 11 * MINUTE)).toMatchObject([
      { incidentId: opened.incidentId, state: 'resolved', id: `${opened.incidentId}:resolved:2` },
    ]);
  });

  it("keeps tenants apart, exports a tenant's incidents and erases them with the tenant", async () => {
    const [mine, theirs] = [freshTenant(), freshTenant()];
    const tracker = recording();
    tracker.observe(anomaly(mine, 'an-1', 'cpu{host="a"}'), T0);
    tracker.observe(anomaly(theirs, 'an-1', 'cpu{host="a"}'), T0);
    await repository.write(storedOf(tracker, { 'sub-1': T0 }));
    expect((await openOf(mine)).map((s) => s.incident.tenantId)).toEqual([mine]);

    const data = new TenantDataRepository(storage.connection);
    const exported = [];
    for await (const record of data.export(mine)) exported.push(record);
    const incidents = exported.filter((r) => r.type === 'incident');
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ kind: 'anomaly', open: 1, told: { 'sub-1': T0 } });
    expect(JSON.parse(incidents[0].state as string)).toMatchObject({ tenantId: mine, group: 'host=a' });
    expect(JSON.stringify(exported)).not.toContain(theirs);

    expect((await data.erase(mine)).incidents).toBe(1);
    expect(await openOf(mine)).toEqual([]);
    expect(await openOf(theirs)).toHaveLength(1);
  });
});
