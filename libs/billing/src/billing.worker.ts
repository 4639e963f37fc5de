import { Logger, type LoggerService } from '@nestjs/common';
import { describeCause, type TenantId, type UsageRepository } from '@seismo/storage';
import { BILLED_METERS, meterEventIdentifier } from './billed-meter';
import { BillingException, BillingExceptionCode } from './billing.exception';
import { type BillingSend } from './billing-send';
import { type BillingSendRepository } from './billing-send.repository';
import { firstOpenHour, isBillable, oldestHourScanned, STRIPE_BACKFILL_DAYS } from './billing-window';
import { type StripeMeterGateway } from './stripe-meter.gateway';
import { type TenantBillingRepository } from './tenant-billing.repository';

export interface BillingWorkerOptions {
  /** How often a run starts (the next waits for the previous to end). */
  readonly intervalMs: number;
  /** How long after an hour ends before it is billed. */
  readonly closeDelayMs: number;
  readonly clock?: () => number;
  readonly logger?: Pick<LoggerService, 'log' | 'warn' | 'error'>;
  /** Told the outcome of every send, for /metrics. */
  readonly observe?: (outcome: BillingOutcome, count?: number) => void;
  /** Told when a run completed, for /metrics. */
  readonly completed?: (at: number) => void;
}

/** What became of a meter event in a run. */
export type BillingOutcome = 'delivered' | 'duplicate' | 'expired' | 'failed';

/** What one run did. */
export interface BillingRunReport {
  readonly delivered: number;
  /** Stripe already had them (a resend after a crash): delivered all the same. */
  readonly duplicates: number;
  /** Hours that left Stripe's window unsent: recorded and logged, never sent. */
  readonly expired: number;
  /** Still pending: Stripe was unreachable or refused; retried next run. */
  readonly pending: number;
}

const METERS = new Map(BILLED_METERS.map((m) => [m.meter, m]));

/**
 * Turns closed hours into Stripe meter events, off the hot path: it reads the usage
 * counters the engine wrote, never waits on ingest or scoring, and nothing there waits
 * on it. One run:
 *
 * 1. Meters are created in Stripe if missing (once per process).
 * 2. For every linked tenant, closed hour and billed meter, what was counted is compared
 *    with what the send-log holds (pending, sent or expired). A positive difference is a
 *    new send-log row, `pending`, written BEFORE the call to Stripe, with the next `seq`
 *    and its deterministic identifier.
 * 3. Every pending row is sent (the new ones, and any a crash or an outage left), one at
 *    a time, oldest hour first; Stripe's answer, or its "duplicate identifier", marks it
 *    `sent`. An hour past Stripe's 35-day window is marked `expired` and logged.
 *
 * A crash at any instant therefore leaves either no row (nothing was sent: the next run
 * makes the same row) or a pending row (the next run sends the same identifier and value
 * again, which Stripe takes once). Stripe keeps identifiers at least 24 hours; the
 * send-log is what prevents a resend after that, since a `sent` row is never sent again.
 *
 * While Stripe is unreachable, runs stop at the first failure and the hours wait as
 * pending or unsent rows: the next run backfills them, inside Stripe's window. A run looks
 * at the hours of Stripe's window and one day more (`oldestHourScanned`); an hour older
 * than that which was never sent (the worker was off for over a day as it left the window)
 * is not logged by the worker, and `seismo billing reconcile` reports it as unbillable.
 */
export class BillingWorker {
  private readonly clock: () => number;
  private readonly logger: Pick<LoggerService, 'log' | 'warn' | 'error'>;
  private metersReady = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly usage: UsageRepository,
    private readonly links: TenantBillingRepository,
    private readonly sends: BillingSendRepository,
    private readonly stripe: StripeMeterGateway,
    private readonly options: BillingWorkerOptions,
  ) {
    if (!(options.intervalMs > 0))
      throw new RangeError(`intervalMs must be positive, got ${options.intervalMs}`);
    if (!(options.closeDelayMs >= 0)) {
      throw new RangeError(`closeDelayMs must be non-negative, got ${options.closeDelayMs}`);
    }
    this.clock = options.clock ?? Date.now;
    this.logger = options.logger ?? new Logger(BillingWorker.name);
  }

  /** Runs now, then every `intervalMs` after the previous run ended, until `stop`. */
  start(): void {
    const loop = async () => {
      this.running = this.runOnce().catch((error: unknown) => {
        this.logger.warn(
          `billing run failed, retrying in ${this.options.intervalMs} ms: ${describeCause(error)}`,
        );
      });
      await this.running;
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.options.intervalMs);
    };
    void loop();
  }

  /**
   * Stops after the send in progress, waiting at most `graceMs` for it: a run abandoned
   * mid-send (Stripe slow, retries backing off) is safe to abandon, since its row is
   * already pending and the next start sends it again under the same identifier.
   */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
  }

  /** One run; throws when Stripe or ClickHouse failed (the rows stay for the next run). */
  async runOnce(): Promise<BillingRunReport> {
    if (!this.metersReady) {
      const created = await this.stripe.ensureMeters();
      if (created.length > 0) this.logger.log(`created Stripe meters ${created.join(', ')}`);
      this.metersReady = true;
    }
    const now = this.clock();
    const customers = await this.links.linked();
    const tenants = [...customers.keys()];
    const [usage, log] = await Promise.all([
      this.usage.hourly(tenants, firstOpenHour(now, this.options.closeDelayMs), oldestHourScanned(now)),
      this.sends.of(tenants),
    ]);

    const settled = new Map<string, { value: number; next: number }>();
    const pending: BillingSend[] = [];
    for (const send of log) {
      const key = keyOf(send.tenantId, send.meter, send.hour);
      const sum = settled.get(key) ?? { value: 0, next: 0 };
      settled.set(key, { value: sum.value + send.value, next: Math.max(sum.next, send.seq + 1) });
      if (send.status === 'pending') pending.push(send);
    }

    const fresh: BillingSend[] = [];
    for (const hourly of usage) {
      const customerId = customers.get(hourly.tenantId)!;
      for (const { meter } of BILLED_METERS) {
        const key = keyOf(hourly.tenantId, meter, hourly.hour);
        const sum = settled.get(key) ?? { value: 0, next: 0 };
        const unbilled = hourly.counts[meter] - sum.value;
        if (unbilled <= 0) continue;
        fresh.push({
          tenantId: hourly.tenantId,
          meter,
          hour: hourly.hour,
          seq: sum.next,
          identifier: meterEventIdentifier(hourly.tenantId, meter, hourly.hour, sum.next),
          customerId,
          value: unbilled,
          status: 'pending',
          detail: '',
          updatedAt: now,
        });
      }
    }

    const expired = [...pending, ...fresh].filter((send) => !isBillable(send.hour, now));
    if (expired.length > 0) {
      await this.sends.record(
        expired.map((send) => ({
          ...send,
          status: 'expired' as const,
          detail: `not sent before the hour left Stripe's ${STRIPE_BACKFILL_DAYS}-day window`,
          updatedAt: now,
        })),
      );
      for (const send of expired) {
        this.logger.error(
          `meter event ${send.identifier} (${send.value}) was never sent and is now older than Stripe's ` +
            `${STRIPE_BACKFILL_DAYS}-day window: recorded as expired; bill it by hand (see seismo billing reconcile)`,
        );
      }
      this.options.observe?.('expired', expired.length);
    }
    // Written as pending before any of them is sent: from here on a crash cannot lose them.
    const billable = fresh.filter((send) => isBillable(send.hour, now));
    await this.sends.record(billable);

    const queue = [...pending.filter((send) => isBillable(send.hour, now)), ...billable].sort(
      (a, b) => a.hour - b.hour || a.tenantId.localeCompare(b.tenantId) || a.meter.localeCompare(b.meter),
    );
    let delivered = 0;
    let duplicates = 0;
    let refused = 0;
    for (let i = 0; i < queue.length; i++) {
      if (this.stopped) {
        return { delivered, duplicates, expired: expired.length, pending: refused + queue.length - i };
      }
      const send = queue[i];
      let outcome;
      try {
        outcome = await this.stripe.send({
          eventName: METERS.get(send.meter)!.eventName,
          identifier: send.identifier,
          customerId: send.customerId,
          value: send.value,
          timestamp: send.hour,
        });
      } catch (error) {
        this.options.observe?.('failed');
        if (error instanceof BillingException && error.code === BillingExceptionCode.STRIPE_REFUSED) {
          // Refused for a reason a retry will not fix (an unknown customer, ...): it stays
          // pending and is retried each run, so fixing the cause bills it; the rest goes on.
          this.logger.error(`Stripe refused meter event ${send.identifier}: ${error.message}`);
          refused++;
          continue;
        }
        throw error;
      }
      if (outcome === 'too_old') {
        await this.sends.record([
          {
            ...send,
            status: 'expired',
            detail: 'Stripe refused the timestamp as too far in the past',
            updatedAt: this.clock(),
          },
        ]);
        this.logger.error(
          `meter event ${send.identifier} (${send.value}) is too old for Stripe: recorded as expired`,
        );
        this.options.observe?.('expired');
        continue;
      }
      await this.sends.record([
        {
          ...send,
          status: 'sent',
          detail: outcome === 'duplicate' ? 'Stripe already had it' : '',
          updatedAt: this.clock(),
        },
      ]);
      this.options.observe?.(outcome);
      if (outcome === 'duplicate') duplicates++;
      else delivered++;
    }
    this.options.completed?.(this.clock());
    return { delivered, duplicates, expired: expired.length, pending: refused };
  }
}

function keyOf(tenant: TenantId, meter: string, hour: number): string {
  return `${tenant}\0${meter}\0${hour}`;
}
