import {
  ClickHouseConnection,
  emptyUsage,
  HOUR_MS,
  hourOf,
  Migrator,
  parseTenantId,
  UsageRepository,
} from '@seismo/storage';
import { parseDedupToken, type TenantId, type UsageRecord } from '@seismo/storage';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BILLED_METERS, meterEventIdentifier } from '../src/billed-meter';
import { BillingExceptionCode } from '../src/billing.exception';
import { reconcileBilling } from '../src/billing.reconciler';
import { BillingSendRepository } from '../src/billing-send.repository';
import { BillingWorker } from '../src/billing.worker';
import { StripeMeterGateway } from '../src/stripe-meter.gateway';
import { TenantBillingRepository } from '../src/tenant-billing.repository';
import {
  type RecordedRequest,
  type ScriptedAnswer,
  startStripeMock,
  type StripeMock,
  StripeProxy,
} from '../src/testing';

/*
 * The billing worker against stripe-mock (Stripe's own mock server, which checks every
 * request against Stripe's API spec) and a real embedded ClickHouse. A recording proxy
 * in front of stripe-mock counts what Stripe received; for what stripe-mock cannot do
 * (remember identifiers, fail), the proxy answers like Stripe would.
 */

jest.setTimeout(60_000);

const NOW = Date.UTC(2031, 2, 4, 12, 30); // 12:30 UTC
const CLOSE_DELAY = 10 * 60_000;
const DAY = 24 * HOUR_MS;

describe('BillingWorker (stripe-mock, embedded ClickHouse)', () => {
  let dir: string;
  let connection: ClickHouseConnection;
  let usage: UsageRepository;
  let links: TenantBillingRepository;
  let sends: BillingSendRepository;
  let mock: StripeMock;
  let proxy: StripeProxy;
  let script: ((request: RecordedRequest) => ScriptedAnswer | undefined) | undefined;
  let tokens = 0;
  let tenants = 0;
  const logger = { log: jest.fn(), warn: jest.fn(), error: jest.fn() };

  const worker = (options: { attempts?: number; now?: number } = {}) =>
    new BillingWorker(
      usage,
      links,
      sends,
      new StripeMeterGateway({
        apiKey: 'sk_test_seismo',
        apiBase: proxy.url,
        attempts: options.attempts ?? 4,
        backoffMs: 5,
      }),
      { intervalMs: 1000, closeDelayMs: CLOSE_DELAY, clock: () => options.now ?? NOW, logger },
    );

  const count = (tenant: TenantId, hour: number, fields: Partial<UsageRecord>) =>
    usage.insertBatch(
      [{ ...emptyUsage(tenant, hour), ...fields }],
      parseDedupToken(`billing-spec/${++tokens}`),
    );

  const linkedTenant = async (): Promise<TenantId> => {
    const tenant = parseTenantId(`billed-${++tenants}`);
    await links.link(tenant, `cus_Test${tenants}`);
    return tenant;
  };

  const eventsOf = (tenant: TenantId) =>
    proxy.deliveredMeterEvents().filter((r) => r.form.identifier?.startsWith(`seismo.${tenant}.`));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'seismo-billing-'));
    connection = await ClickHouseConnection.open({ dataDir: join(dir, 'clickhouse') });
    await new Migrator(connection.client).migrate();
    usage = new UsageRepository(connection);
    links = new TenantBillingRepository(connection);
    sends = new BillingSendRepository(connection);
    mock = await startStripeMock();
    proxy = await StripeProxy.start({
      upstream: mock.url,
      rememberIdentifiers: true,
      script: (r) => script?.(r),
    });
  });
  afterAll(async () => {
    await proxy?.stop();
    await mock?.stop();
    await connection?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    script = undefined;
    jest.clearAllMocks();
  });

  it('creates the meters it lacks and bills each closed hour of a linked tenant once, through stripe-mock', async () => {
    const tenant = await linkedTenant();
    const unlinked = parseTenantId('not-billed');
    const h10 = hourOf(NOW) - 2 * HOUR_MS;
    const h11 = hourOf(NOW) - HOUR_MS;
    await count(tenant, h10, { pointsIngested: 1000, anomalies: 3, seriesHashes: [1n, 2n] });
    await count(tenant, h10, { pointsIngested: 500, seriesHashes: [2n, 3n] });
    await count(tenant, h11, { pointsIngested: 7, seriesHashes: [1n] });
    // 12:00 is still open at 12:30; 11:00 closed at 12:10.
    await count(tenant, hourOf(NOW), { pointsIngested: 99 });
    await count(unlinked, h10, { pointsIngested: 5 });

    const report = await worker().runOnce();

    // stripe-mock lists only its fixture meter, so every Seismo meter is created.
    const created = proxy.requests.filter((r) => r.path === '/v1/billing/meters' && r.method === 'POST');
    expect(created.map((r) => r.form.event_name).sort()).toEqual(
      BILLED_METERS.map((m) => m.eventName).sort(),
    );
    expect(created.every((r) => r.status === 200)).toBe(true);
    expect(created[0].form).toMatchObject({
      'default_aggregation[formula]': 'sum',
      'customer_mapping[type]': 'by_id',
      'customer_mapping[event_payload_key]': 'stripe_customer_id',
      'value_settings[event_payload_key]': 'value',
    });

    const events = eventsOf(tenant).map((r) => r.form);
    expect(events).toEqual(
      expect.arrayContaining([
        {
          event_name: 'seismo_points_ingested',
          identifier: meterEventIdentifier(tenant, 'points_ingested', h10, 0),
          timestamp: String(h10 / 1000),
          'payload[stripe_customer_id]': `cus_Test${tenants}`,
          'payload[value]': '1500',
        },
        expect.objectContaining({
          event_name: 'seismo_series_hours',
          'payload[value]': '3',
          timestamp: String(h10 / 1000),
        }),
        expect.objectContaining({ event_name: 'seismo_anomalies', 'payload[value]': '3' }),
        expect.objectContaining({
          event_name: 'seismo_points_ingested',
          'payload[value]': '7',
          timestamp: String(h11 / 1000),
        }),
        expect.objectContaining({
          event_name: 'seismo_series_hours',
          'payload[value]': '1',
          timestamp: String(h11 / 1000),
        }),
      ]),
    );
    // Meters at 0 (alerts, LLM tokens, anomalies at 11:00) send nothing; the open hour waits.
    expect(events).toHaveLength(5);
    expect(report).toEqual({ delivered: 5, duplicates: 0, expired: 0, pending: 0 });
    expect(proxy.deliveredMeterEvents().some((r) => r.form.identifier?.includes('not-billed'))).toBe(false);
    const log = await sends.of([tenant]);
    expect(log.map((s) => s.status)).toEqual(Array(5).fill('sent'));

    // Nothing new: a second run sends nothing, and reconcile finds no difference.
    expect(await worker().runOnce()).toEqual({ delivered: 0, duplicates: 0, expired: 0, pending: 0 });
    expect(eventsOf(tenant)).toHaveLength(5);
    const reconciled = await reconcileBilling(usage, links, sends, { now: NOW, closeDelayMs: CLOSE_DELAY });
    expect(reconciled.differences.filter((d) => d.tenantId === tenant)).toEqual([]);

    // Counted after the hour was billed (a late batch): a second event, seq 1, with the difference.
    await count(tenant, h10, { pointsIngested: 20 });
    expect(
      (await reconcileBilling(usage, links, sends, { now: NOW, closeDelayMs: CLOSE_DELAY })).differences,
    ).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          tenantId: tenant,
          meter: 'points_ingested',
          hour: h10,
          counted: 1520,
          sent: 1500,
          kind: 'unsent',
        }),
      ]),
    );
    await worker().runOnce();
    expect(eventsOf(tenant).at(-1)!.form).toMatchObject({
      identifier: meterEventIdentifier(tenant, 'points_ingested', h10, 1),
      'payload[value]': '20',
    });
  });

  it('takes Stripe\'s "duplicate identifier" answer for an event a crash left pending as delivered', async () => {
    const tenant = await linkedTenant();
    const hour = hourOf(NOW) - 3 * HOUR_MS;
    await count(tenant, hour, { pointsIngested: 42 });
    await worker().runOnce();
    expect(eventsOf(tenant)).toHaveLength(1);
    // As if the process died after Stripe took the event and before the send-log said so.
    const [sent] = await sends.of([tenant]);
    await sends.record([{ ...sent, status: 'pending', detail: '' }]);

    const report = await worker().runOnce();
    expect(report).toMatchObject({ delivered: 0, duplicates: 1 });
    expect(eventsOf(tenant)).toHaveLength(1);
    const duplicate = proxy.requests.filter((r) => r.form.identifier === sent.identifier);
    expect(duplicate.map((r) => r.status)).toEqual([200, 400]);
    expect(await sends.of([tenant])).toEqual([
      expect.objectContaining({ status: 'sent', value: 42, seq: 0 }),
    ]);
  });

  it('retries 429 and 5xx with backoff, and backfills the hours missed while Stripe was unreachable', async () => {
    const tenant = await linkedTenant();
    const hours = [5, 4, 3].map((n) => hourOf(NOW) - n * HOUR_MS);
    for (const hour of hours) await count(tenant, hour, { pointsIngested: hour / HOUR_MS });

    // Stripe down: every call answers 503; the run gives up after its attempts, rows stay pending.
    script = (r) =>
      r.path === '/v1/billing/meter_events'
        ? { status: 503, body: { error: { message: 'down', type: 'api_error' } } }
        : undefined;
    const down = worker({ attempts: 3 });
    await expect(down.runOnce()).rejects.toMatchObject({ code: BillingExceptionCode.STRIPE_UNAVAILABLE });
    expect(proxy.requests.filter((r) => r.form.identifier?.startsWith(`seismo.${tenant}.`))).toHaveLength(3);
    expect((await sends.of([tenant])).map((s) => s.status)).toEqual(['pending', 'pending', 'pending']);

    // Back, but rate limiting: two 429s, then stripe-mock answers.
    let limited = 0;
    script = (r) =>
      r.path === '/v1/billing/meter_events' && limited++ < 2
        ? { status: 429, body: { error: { message: 'rate limited', type: 'invalid_request_error' } } }
        : undefined;
    // Two days later: the backfill sends the three hours, in order.
    const report = await worker({ attempts: 3, now: NOW + 2 * DAY }).runOnce();
    expect(report.pending).toBe(0);
    expect(proxy.requests.filter((r) => r.status === 429)).toHaveLength(2);
    expect(eventsOf(tenant).map((r) => [r.form.timestamp, r.form['payload[value]']])).toEqual(
      hours.map((hour) => [String(hour / 1000), String(hour / HOUR_MS)]),
    );
    expect((await sends.of([tenant])).map((s) => s.status)).toEqual(['sent', 'sent', 'sent']);
  });

  it("records an hour older than Stripe's 35-day window as expired, logs it, and reconcile reports it", async () => {
    const tenant = await linkedTenant();
    const old = hourOf(NOW) - 36 * DAY;
    await count(tenant, old, { pointsIngested: 11 });
    const report = await worker().runOnce();
    expect(report).toMatchObject({ delivered: 0, expired: 1 });
    expect(eventsOf(tenant)).toEqual([]);
    expect(logger.error).toHaveBeenCalledWith(
      expect.stringMatching(/never sent .* older than Stripe's 35-day window/),
    );
    expect(await sends.of([tenant])).toEqual([expect.objectContaining({ status: 'expired', value: 11 })]);
    const reconciled = await reconcileBilling(usage, links, sends, { now: NOW, closeDelayMs: CLOSE_DELAY });
    expect(reconciled.differences.filter((d) => d.tenantId === tenant)).toEqual([
      expect.objectContaining({ counted: 11, sent: 0, expired: 11, kind: 'unbillable' }),
    ]);
    // Reported once, not again at every run.
    jest.clearAllMocks();
    expect(await worker().runOnce()).toMatchObject({ expired: 0 });
    expect(logger.error).not.toHaveBeenCalled();

    // Older than the runs look (the worker was off for days as it left the window): the runs
    // leave it, reconcile still reports it.
    const ancient = hourOf(NOW) - 60 * DAY;
    await count(tenant, ancient, { anomalies: 4 });
    expect(await worker().runOnce()).toMatchObject({ delivered: 0, expired: 0 });
    const later = await reconcileBilling(usage, links, sends, { now: NOW, closeDelayMs: CLOSE_DELAY });
    expect(later.differences.filter((d) => d.tenantId === tenant && d.hour === ancient)).toEqual([
      expect.objectContaining({ meter: 'anomalies', counted: 4, sent: 0, expired: 0, kind: 'unbillable' }),
    ]);
  });

  it('records as expired an event Stripe refuses as too old, and keeps an event Stripe refuses otherwise pending', async () => {
    const tenant = await linkedTenant();
    const [h1, h2] = [7, 6].map((n) => hourOf(NOW) - n * HOUR_MS);
    await count(tenant, h1, { anomalies: 2 });
    await count(tenant, h2, { anomalies: 5 });
    script = (r) => {
      if (r.path !== '/v1/billing/meter_events') return undefined;
      if (r.form.timestamp === String(h1 / 1000)) {
        return {
          status: 400,
          body: {
            error: { code: 'timestamp_too_far_in_past', message: 'too old', type: 'invalid_request_error' },
          },
        };
      }
      return {
        status: 400,
        body: {
          error: { code: 'resource_missing', message: 'No such customer', type: 'invalid_request_error' },
        },
      };
    };
    const report = await worker().runOnce();
    expect(report).toMatchObject({ delivered: 0, expired: 0, pending: 1 });
    const log = await sends.of([tenant]);
    expect(log.map((s) => [s.hour, s.status])).toEqual([
      [h1, 'expired'],
      [h2, 'pending'],
    ]);
    expect(logger.error).toHaveBeenCalledWith(expect.stringMatching(/refused .* No such customer/));
    // Fixed on Stripe's side: the next run sends it.
    script = undefined;
    expect(await worker().runOnce()).toMatchObject({ delivered: 1, pending: 0 });
  });
});
