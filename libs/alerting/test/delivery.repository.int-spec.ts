import {
  nextRowVersion,
  StorageException,
  StorageExceptionCode,
  TenantDataRepository,
  type TenantId,
} from '@seismo/storage';
import { freshTenant, TestStorage } from '../../storage/test/storage.harness';
import { type ChannelTarget } from '../src/channel';
import { deliveriesOf, deliveryOf, type DeliveryRecord } from '../src/delivery/delivery';
import { DeliveryRepository } from '../src/delivery/delivery.repository';
import { type Notification } from '../src/notification';

let storage: TestStorage;
let repository: DeliveryRepository;
beforeAll(async () => {
  storage = await TestStorage.start();
  repository = new DeliveryRepository(storage.connection);
});
afterAll(async () => {
  await storage.stop();
});

const T0 = Date.UTC(2026, 11, 1);
const webhook: ChannelTarget = {
  kind: 'webhook',
  url: 'https://hooks.example.com/seismo',
  secret: 'whsec-s3cret',
};

function notification(tenant: TenantId, incident: string, at = T0): Notification {
  return {
    id: `${incident}:opened:0`,
    tenantId: tenant,
    incidentId: incident,
    kind: 'anomaly',
    state: 'opened',
    severity: 'warning',
    title: 'cpu anomalous',
    summary: 'cpu went up',
    openedAt: at,
    at,
    series: [
      { series: 'cpu{host="a"}', metric: 'cpu', labels: { host: 'a' }, ts: at, value: 97.5, score: 0.8 },
    ],
    anomalyIds: ['an-1'],
    links: {},
  };
}

function pending(
  tenant: TenantId,
  subscription: string,
  incident: string,
  fields: Partial<DeliveryRecord> = {},
): DeliveryRecord {
  const createdAt = fields.createdAt ?? T0;
  return {
    ...deliveryOf(notification(tenant, incident, createdAt), { id: subscription, target: webhook }),
    status: 'pending',
    attempts: 0,
    nextAttemptAt: createdAt,
    lastError: '',
    lastStatus: null,
    seq: nextRowVersion(),
    createdAt,
    sentAt: null,
    ...fields,
  };
}

describe('DeliveryRepository', () => {
  it('stores a delivery enqueued twice once, and says which were new', async () => {
    const tenant = freshTenant();
    const a = pending(tenant, 'sub-1', 'inc-1');
    const b = pending(tenant, 'sub-1', 'inc-2');
    expect((await repository.enqueue([a, a])).map((r) => r.id)).toEqual([a.id]);
    expect((await repository.enqueue([a, b])).map((r) => r.id)).toEqual([b.id]);
    expect(await storage.count('alert_deliveries', `tenant_id = '${tenant}'`)).toBe(2);
  });

  it('stores an email delivery per recipient: each reads back with its one recipient and is listed under its subscription', async () => {
    const tenant = freshTenant();
    const email = {
      id: 'sub-mail',
      target: { kind: 'email', to: ['a@acme.example', 'b@acme.example'] },
    } as const;
    const routed = () =>
      deliveriesOf(notification(tenant, 'inc-1'), email).map((d): DeliveryRecord => ({
        ...pending(tenant, 'sub-mail', 'inc-1'),
        ...d,
      }));
    const records = routed();
    expect(await repository.enqueue(records)).toHaveLength(2);
    // Routed again (a replay after a restart): the same ids, nothing new.
    expect(await repository.enqueue(routed())).toEqual([]);
    for (const record of records) expect(await repository.get(tenant, record.id)).toEqual(record);
    const listed = await repository.list(tenant, { subscriptionId: 'sub-mail', limit: 10 });
    expect(listed.map((d) => `${d.channel} ${JSON.stringify(d.target)}`).sort()).toEqual([
      'email {"to":["a@acme.example"]}',
      'email {"to":["b@acme.example"]}',
    ]);
  });

  it('never turns a sent delivery back to pending when it is enqueued again', async () => {
    const tenant = freshTenant();
    const d = pending(tenant, 'sub-1', 'inc-1');
    await repository.enqueue([d]);
    await repository.record([{ ...d, status: 'sent', attempts: 1, lastStatus: 200, sentAt: T0 + 5 }]);
    expect(await repository.enqueue([{ ...d, seq: nextRowVersion() }])).toEqual([]);
    const [listed] = await repository.list(tenant, { limit: 10 });
    expect(listed).toMatchObject({ id: d.id, status: 'sent', attempts: 1, lastStatus: 200, sentAt: T0 + 5 });
  });

  it('stores outcomes: a retry with its next attempt and error, then a death', async () => {
    const tenant = freshTenant();
    const d = pending(tenant, 'sub-1', 'inc-1');
    await repository.enqueue([d]);
    const retry = { ...d, attempts: 1, nextAttemptAt: T0 + 1500, lastError: 'HTTP 503', lastStatus: 503 };
    await repository.record([retry]);
    expect((await repository.pending({ limit: 10, perSubscription: 10 })).find((r) => r.id === d.id)).toEqual(
      retry,
    );
    await repository.record([
      { ...retry, status: 'dead', attempts: 2, lastError: 'HTTP 400', lastStatus: 400 },
    ]);
    const [listed] = await repository.list(tenant, { limit: 10 });
    expect(listed).toMatchObject({ status: 'dead', attempts: 2, lastError: 'HTTP 400', lastStatus: 400 });
    expect(listed.notification).toEqual(d.notification);
    expect((await repository.pending({ limit: 100, perSubscription: 100 })).some((r) => r.id === d.id)).toBe(
      false,
    );
  });

  it('loads pending deliveries in enqueue order, at most so many per subscription, leaving out what it is told', async () => {
    const tenant = freshTenant();
    const rows = [
      pending(tenant, `${tenant}-a`, 'i1'),
      pending(tenant, `${tenant}-b`, 'i2'),
      pending(tenant, `${tenant}-a`, 'i3'),
      pending(tenant, `${tenant}-a`, 'i4'),
      pending(tenant, `${tenant}-c`, 'i5'),
    ];
    await repository.enqueue(rows);
    await repository.record([{ ...rows[1], status: 'sent', attempts: 1, sentAt: T0 }]);
    const mine = (found: DeliveryRecord[]) => found.filter((r) => r.tenantId === tenant).map((r) => r.id);

    expect(mine(await repository.pending({ limit: 1000, perSubscription: 2 }))).toEqual([
      rows[0].id,
      rows[2].id,
      rows[4].id,
    ]);
    expect(
      mine(
        await repository.pending({
          limit: 1000,
          perSubscription: 10,
          excludingIds: [rows[0].id],
          excludingSubscriptions: [`${tenant}-c`],
        }),
      ),
    ).toEqual([rows[2].id, rows[3].id]);
  });

  it("lists a tenant's deliveries newest first, filtered, with the target's secrets masked", async () => {
    const [tenant, other] = [freshTenant(), freshTenant()];
    const rows = [0, 1, 2, 3].map((i) =>
      pending(tenant, i % 2 === 0 ? 'sub-even' : 'sub-odd', `inc-${i}`, { createdAt: T0 + i * 1000 }),
    );
    await repository.enqueue([...rows, pending(other, 'sub-even', 'inc-x')]);
    await repository.record([{ ...rows[2], status: 'dead', attempts: 1, lastError: 'HTTP 404' }]);

    const all = await repository.list(tenant, { limit: 10 });
    expect(all.map((r) => r.id)).toEqual([rows[3].id, rows[2].id, rows[1].id, rows[0].id]);
    expect(all[0].channel).toBe('webhook');
    expect(all[0].target).toEqual({ url: 'https://hooks.example.com/seismo' });
    expect(JSON.stringify(all)).not.toContain('whsec-s3cret');

    const ids = async (query: Parameters<DeliveryRepository['list']>[1]) =>
      (await repository.list(tenant, query)).map((r) => r.id);
    expect(await ids({ limit: 10, status: 'dead' })).toEqual([rows[2].id]);
    expect(await ids({ limit: 10, status: 'pending', subscriptionId: 'sub-even' })).toEqual([rows[0].id]);
    expect(await ids({ limit: 10, from: T0 + 1000, to: T0 + 3000 })).toEqual([rows[2].id, rows[1].id]);
    expect(await ids({ limit: 1 })).toEqual([rows[3].id]);
    expect(await ids({ limit: 10, subscriptionId: 'nope' })).toEqual([]);
    await expect(repository.list(tenant, { limit: 0 })).rejects.toBeInstanceOf(StorageException);
    await expect(
      repository.list(tenant, { limit: 10, status: 'lost' as DeliveryRecord['status'] }),
    ).rejects.toMatchObject({ code: StorageExceptionCode.INVALID_QUERY });
  });

  it("exports a tenant's deliveries without their targets, and erases them with the tenant", async () => {
    const tenant = freshTenant();
    await repository.enqueue([pending(tenant, 'sub-1', 'inc-1')]);
    const data = new TenantDataRepository(storage.connection);
    const exported = [];
    for await (const record of data.export(tenant)) exported.push(record);
    const deliveries = exported.filter((r) => r.type === 'alert_delivery');
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ subscription_id: 'sub-1', channel: 'webhook', status: 'pending' });
    expect(deliveries[0]).not.toHaveProperty('target');
    expect(JSON.stringify(exported)).not.toContain('whsec-s3cret');

    expect((await data.erase(tenant)).alert_deliveries).toBe(1);
    expect(await repository.list(tenant, { limit: 10 })).toEqual([]);
  });
});
