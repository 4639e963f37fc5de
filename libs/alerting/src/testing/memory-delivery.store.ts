import { type DeliveryRecord } from '../delivery/delivery';
import { type DeliveryStore } from '../delivery/delivery.dispatcher';
import { type PendingQuery } from '../delivery/delivery.repository';

/**
 * The outbox in memory, with DeliveryRepository's semantics (an enqueued delivery already
 * present is left as it is; `pending` in enqueue order, per-subscription limit, exclusions),
 * for unit tests of what drives it. The integration tests hold the repository to the same.
 */
export class MemoryDeliveryStore implements DeliveryStore {
  readonly rows = new Map<string, DeliveryRecord>();
  /** Every `record` call's rows, in order. */
  readonly recorded: DeliveryRecord[][] = [];
  /** `pending` calls so far. */
  pendingQueries = 0;
  /** While set, `record` rejects with it (ClickHouse down). */
  failRecords: Error | undefined;

  async enqueue(records: readonly DeliveryRecord[]): Promise<DeliveryRecord[]> {
    await Promise.resolve();
    const fresh = records.filter((r) => !this.rows.has(r.id));
    for (const r of fresh) this.rows.set(r.id, r);
    return fresh;
  }

  async record(records: readonly DeliveryRecord[]): Promise<void> {
    await Promise.resolve();
    if (this.failRecords) throw this.failRecords;
    this.recorded.push([...records]);
    for (const r of records) this.rows.set(r.id, r);
  }

  async pending(query: PendingQuery): Promise<DeliveryRecord[]> {
    await Promise.resolve();
    this.pendingQueries++;
    const ids = new Set(query.excludingIds ?? []);
    const subscriptions = new Set(query.excludingSubscriptions ?? []);
    const perSubscription = new Map<string, number>();
    const out: DeliveryRecord[] = [];
    const rows = [...this.rows.values()].sort((a, b) => a.seq - b.seq || a.id.localeCompare(b.id));
    for (const row of rows) {
      if (row.status !== 'pending' || ids.has(row.id) || subscriptions.has(row.subscriptionId)) continue;
      const n = perSubscription.get(row.subscriptionId) ?? 0;
      if (n >= query.perSubscription) continue;
      perSubscription.set(row.subscriptionId, n + 1);
      out.push(row);
      if (out.length >= query.limit) break;
    }
    return out;
  }

  /** Rows in this status. */
  withStatus(status: DeliveryRecord['status']): DeliveryRecord[] {
    return [...this.rows.values()].filter((r) => r.status === status);
  }
}
