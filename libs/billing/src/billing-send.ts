import { type TenantId, type UsageMeter } from '@seismo/storage';

/**
 * - `pending`: written before the event is sent; a crash leaves it, and the next run sends
 *   the same identifier and value again.
 * - `sent`: Stripe took it, or answered that it already had the identifier.
 * - `expired`: the hour left Stripe's 35-day window before the event could be sent.
 */
export type BillingSendStatus = 'pending' | 'sent' | 'expired';

/** One meter event, as the send-log records it. */
export interface BillingSend {
  readonly tenantId: TenantId;
  readonly meter: UsageMeter;
  /** Start of the hour billed, epoch milliseconds. */
  readonly hour: number;
  readonly seq: number;
  readonly identifier: string;
  readonly customerId: string;
  readonly value: number;
  readonly status: BillingSendStatus;
  /** Why, for `expired` and for the last failure of a `pending` one. */
  readonly detail: string;
  /** Epoch milliseconds of the last change. */
  readonly updatedAt: number;
}
