import { BillingSendRepository, meterEventIdentifier, TenantBillingRepository } from '@seismo/billing';
import { startStripeMock, type StripeMock, StripeProxy } from '@seismo/billing/testing';
import {
  ClickHouseConnection,
  emptyUsage,
  HOUR_MS,
  hourOf,
  Migrator,
  parseDedupToken,
  parseTenantId,
  type TenantId,
  UsageRepository,
} from '@seismo/storage';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * The billing worker (`seismo billing run`, its own process) is killed with SIGKILL twice
 * while it sends a backlog of hours to Stripe, and started again on the same data
 * directory. Stripe is stripe-mock behind a recording proxy that answers a repeated
 * identifier like Stripe does, and holds each meter event a few milliseconds so that the
 * kills land mid-run, some between Stripe taking an event and the send-log saying so.
 * Once a run completes: every tenant, meter and hour is in the send-log once, sent, with
 * the counted value, and Stripe took each identifier exactly once.
 */

jest.setTimeout(180_000);

const BIN = path.resolve(__dirname, '../../../bin/seismo.js');
const TENANTS = 2;
const HOURS = 30;

interface Worker {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr(): string;
}

describe('the billing worker killed mid-run (SIGKILL) and restarted', () => {
  let dataDir: string;
  let mock: StripeMock;
  let proxy: StripeProxy;
  let worker: Worker | undefined;
  /** The worker is killed when it sends this identifier, before Stripe (the mock) takes it. */
  let killOn: string | undefined;
  let killedBeforeAnswer: string | undefined;

  const env = () => ({
    ...process.env,
    SEISMO_DATA_DIR: dataDir,
    SEISMO_STRIPE_API_KEY: 'sk_test_billingcrash',
    SEISMO_STRIPE_API_BASE: proxy.url,
    SEISMO_BILLING_INTERVAL_MS: '200',
    SEISMO_LOG_LEVEL: 'error',
  });

  const start = (): Worker => {
    const child = spawn(process.execPath, [BIN, 'billing', 'run'], {
      env: env(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return { child, exited: new Promise((resolve) => child.once('exit', resolve)), stderr: () => stderr };
  };

  const reconcile = async (): Promise<{ code: number | null; stdout: string }> => {
    const child = spawn(process.execPath, [BIN, 'billing', 'reconcile'], {
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { code, stdout };
  };

  const withStore = async <T>(use: (connection: ClickHouseConnection) => Promise<T>): Promise<T> => {
    const connection = await ClickHouseConnection.open({ dataDir: join(dataDir, 'clickhouse') });
    try {
      await new Migrator(connection.client).migrate();
      return await use(connection);
    } finally {
      await connection.close();
    }
  };

  const delivered = () => proxy.deliveredMeterEvents().length;

  const until = async (condition: () => boolean, what: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${worker?.stderr() ?? ''}`);
      await sleep(10);
    }
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'seismo-billing-crash-'));
    mock = await startStripeMock();
    proxy = await StripeProxy.start({
      upstream: mock.url,
      rememberIdentifiers: true,
      meterEventDelayMs: 5,
      beforeMeterEvent: async (request) => {
        if (request.form.identifier !== killOn) return;
        killOn = undefined;
        worker!.child.kill('SIGKILL');
        await worker!.exited;
        killedBeforeAnswer = request.form.identifier;
      },
    });
  });
  afterAll(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
    await proxy?.stop();
    await mock?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('bills every hour exactly once: in the send-log once, taken by Stripe once', async () => {
    // A backlog: two tenants, 30 closed hours each, three meters with counts in every hour.
    const firstHour = hourOf(Date.now()) - (HOURS + 2) * HOUR_MS;
    const tenants: TenantId[] = Array.from({ length: TENANTS }, (_, t) => parseTenantId(`crash-${t}`));
    const expected = new Map<string, number>();
    await withStore(async (connection) => {
      const usage = new UsageRepository(connection);
      const links = new TenantBillingRepository(connection);
      let token = 0;
      for (const [t, tenant] of tenants.entries()) {
        await links.link(tenant, `cus_Crash${t}`);
        for (let h = 0; h < HOURS; h++) {
          const hour = firstHour + h * HOUR_MS;
          // Two batches per hour, as the engine would write them.
          for (const points of [500 + h, 500 + 10 * t]) {
            await usage.insertBatch(
              [
                {
                  ...emptyUsage(tenant, hour),
                  pointsIngested: points,
                  anomalies: 1 + (h % 4),
                  seriesHashes: [1n, BigInt(2 + (h % 3))],
                },
              ],
              parseDedupToken(`crash-seed/${++token}`),
            );
          }
        }
      }
      // What the counters hold is what must be billed.
      for (const row of await usage.hourly(tenants, hourOf(Date.now()))) {
        expected.set(`${row.tenantId}|points_ingested|${row.hour}`, row.counts.points_ingested);
        expected.set(`${row.tenantId}|anomalies|${row.hour}`, row.counts.anomalies);
        expected.set(`${row.tenantId}|active_series|${row.hour}`, row.counts.active_series);
      }
      expect(expected.get(`${tenants[1]}|points_ingested|${firstHour}`)).toBe(500 + 510);
      expect(expected.get(`${tenants[0]}|active_series|${firstHour}`)).toBe(2);
    });
    expect(expected.size).toBe(TENANTS * HOURS * 3);

    const before = await reconcile();
    expect(before.code).toBe(3);
    expect(before.stdout).toMatch(new RegExp(`${expected.size} differences`));

    // First life: killed while an event mid-backlog is on the way, which Stripe then takes: the
    // send-log still says pending. Second life: killed at a random point of the backlog.
    worker = start();
    let kills = 1;
    killOn = meterEventIdentifier(tenants[1], 'points_ingested', firstHour + 6 * HOUR_MS, 0);
    await worker.exited;
    // The proxy forwards the event once the worker is gone.
    await until(
      () => killedBeforeAnswer !== undefined,
      'the event sent by the killed worker to be forwarded',
    );
    await until(() => proxy.requests.at(-1)!.status !== 0, 'Stripe to take it');
    const target = delivered() + Math.floor(Math.random() * (expected.size - delivered()) * 0.8);
    worker = start();
    await until(() => delivered() >= target, `${target} meter events`);
    worker.child.kill('SIGKILL');
    await worker.exited;
    kills++;
    expect(delivered()).toBeLessThan(expected.size);

    // The last life runs to the end of the backlog.
    worker = start();
    await until(() => worker!.stderr().includes('run complete'), 'a complete billing run');
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);

    // Stripe's side: each identifier taken once (200); a resend after a kill got "duplicate" (400).
    const events = proxy.deliveredMeterEvents();
    const byIdentifier = new Map<string, number>();
    for (const event of events)
      byIdentifier.set(event.form.identifier, (byIdentifier.get(event.form.identifier) ?? 0) + 1);
    expect([...byIdentifier.values()].every((n) => n === 1)).toBe(true);
    expect(events).toHaveLength(expected.size);
    const duplicates = proxy.requests.filter(
      (r) => r.path === '/v1/billing/meter_events' && r.status === 400,
    );
    expect(duplicates.length).toBeLessThanOrEqual(kills);
    // The event Stripe took after its sender died was sent again, and refused as a duplicate.
    expect(duplicates.map((r) => r.form.identifier)).toContain(killedBeforeAnswer);
    for (const duplicate of duplicates) expect(byIdentifier.get(duplicate.form.identifier)).toBe(1);

    // The send-log: one row per tenant, meter and hour, sent, with the counted value and the
    // identifier Stripe took, which is the deterministic one.
    const log = await withStore((connection) => new BillingSendRepository(connection).of(tenants));
    expect(log).toHaveLength(expected.size);
    const taken = new Map(events.map((e) => [e.form.identifier, Number(e.form['payload[value]'])]));
    for (const send of log) {
      expect(send).toMatchObject({ status: 'sent', seq: 0 });
      expect(send.value).toBe(expected.get(`${send.tenantId}|${send.meter}|${send.hour}`));
      expect(send.identifier).toBe(meterEventIdentifier(send.tenantId, send.meter, send.hour, 0));
      expect(taken.get(send.identifier)).toBe(send.value);
    }

    const after = await reconcile();
    expect(after).toMatchObject({ code: 0 });
    expect(after.stdout).toMatch(/0 differences/);
  });
});
