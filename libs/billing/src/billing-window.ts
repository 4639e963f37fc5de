import { DAY_MS, HOUR_MS, hourOf } from '@seismo/storage';

/**
 * Stripe takes a meter event whose timestamp is "within the past 35 calendar days". An
 * hour is billable while its start is inside that window with an hour to spare (the send
 * may be retried for a while); an older one that was never sent can no longer be, and is
 * reported instead (send-log status 'expired', `seismo billing reconcile`).
 */
export const STRIPE_BACKFILL_DAYS = 35;
const SPARE_MS = HOUR_MS;

/**
 * The first hour not yet closed at `now`: every hour before it ended at least `closeDelayMs`
 * ago, long enough for the batches scored in it to be written (the engine retries a write
 * until it lands, and the commit waits on it), so its counts are final unless a batch's
 * write was held up longer. Counts that still arrive later are sent as a further event.
 */
export function firstOpenHour(now: number, closeDelayMs: number): number {
  return hourOf(now - closeDelayMs);
}

/**
 * The oldest hour a billing run looks at: a day beyond Stripe's window, so that an hour
 * that leaves the window unsent is still seen (and recorded as expired, and logged) by
 * the runs of that day. Older hours are left to `seismo billing reconcile`, which reads
 * everything: reading every hour at every run would grow without bound.
 */
export function oldestHourScanned(now: number): number {
  return hourOf(now - (STRIPE_BACKFILL_DAYS + 1) * DAY_MS);
}

/** Whether Stripe still takes an event for the hour starting at `hour`. */
export function isBillable(hour: number, now: number): boolean {
  return hour >= now - STRIPE_BACKFILL_DAYS * DAY_MS + SPARE_MS;
}
