import { type TenantId, type UsageRepository } from '@seismo/storage';
import { BILLED_METERS } from './billed-meter';
import { type BillingSendRepository } from './billing-send.repository';
import { firstOpenHour, isBillable } from './billing-window';
import { type TenantBillingRepository } from './tenant-billing.repository';

/** One tenant, meter and closed hour whose counter and send-log disagree. */
export interface BillingDifference {
  readonly tenantId: TenantId;
  readonly meter: string;
  readonly hour: number;
  /** What the usage counters hold. */
  readonly counted: number;
  /** What Stripe took (status `sent`). */
  readonly sent: number;
  /** Written to the send-log and not yet confirmed by Stripe. */
  readonly pending: number;
  /** Never sent: the hour left Stripe's window first. */
  readonly expired: number;
  /**
   * - `unsent`: counted, not (fully) sent, still inside Stripe's window: the worker will send it.
   * - `unbillable`: counted, not sent, and too old for Stripe: to be billed by hand.
   * - `overbilled`: more sent than counted (should never happen; a bug or a hand-made event).
   */
  readonly kind: 'unsent' | 'unbillable' | 'overbilled';
}

export interface ReconcileReport {
  readonly tenants: number;
  readonly hours: number;
  readonly differences: readonly BillingDifference[];
}

/**
 * Compares the usage counters of every linked tenant's closed hours with the send-log,
 * meter by meter: what `seismo billing reconcile` prints. Read-only.
 */
export async function reconcileBilling(
  usage: UsageRepository,
  links: TenantBillingRepository,
  sends: BillingSendRepository,
  options: { now: number; closeDelayMs: number },
): Promise<ReconcileReport> {
  const tenants = [...(await links.linked()).keys()];
  const [counted, log] = await Promise.all([
    usage.hourly(tenants, firstOpenHour(options.now, options.closeDelayMs)),
    sends.of(tenants),
  ]);
  const sent = new Map<string, { sent: number; pending: number; expired: number }>();
  for (const send of log) {
    const key = `${send.tenantId}\0${send.meter}\0${send.hour}`;
    const sums = sent.get(key) ?? { sent: 0, pending: 0, expired: 0 };
    sums[send.status] += send.value;
    sent.set(key, sums);
  }
  const differences: BillingDifference[] = [];
  const seen = new Set<string>();
  for (const hourly of counted) {
    for (const { meter } of BILLED_METERS) {
      const key = `${hourly.tenantId}\0${meter}\0${hourly.hour}`;
      seen.add(key);
      const sums = sent.get(key) ?? { sent: 0, pending: 0, expired: 0 };
      const value = hourly.counts[meter];
      if (value === sums.sent) continue;
      differences.push({
        tenantId: hourly.tenantId,
        meter,
        hour: hourly.hour,
        counted: value,
        ...sums,
        kind:
          value < sums.sent ? 'overbilled' : isBillable(hourly.hour, options.now) ? 'unsent' : 'unbillable',
      });
    }
  }
  // Sent for an hour with no counts at all (a hand-made row, or counts erased).
  for (const [key, sums] of sent) {
    if (seen.has(key) || sums.sent === 0) continue;
    const [tenantId, meter, hour] = key.split('\0');
    differences.push({
      tenantId: tenantId as TenantId,
      meter,
      hour: Number(hour),
      counted: 0,
      ...sums,
      kind: 'overbilled',
    });
  }
  return { tenants: tenants.length, hours: counted.length, differences };
}
