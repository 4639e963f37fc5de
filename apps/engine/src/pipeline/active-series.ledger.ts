import { type TenantId, type UsageRecord } from '@seismo/storage';

/** Most hashes held over all tenants; past it the ledger starts over (forgetting only makes rows longer). */
const MAX_LEDGER_HASHES = 200_000;

interface TenantHour {
  readonly hour: number;
  readonly hashes: Set<bigint>;
}

/**
 * The series hashes this engine knows are stored in `usage_hourly` for a tenant's
 * current hour, so that a batch's usage row carries only the series new in the hour
 * rather than every series it touched again. `series_hashes` merges as a set union, so
 * a hash written twice costs space and merge time and changes no count; the row's
 * INSERT (encoding, parsing, the merges of 10,000-element arrays) is most of metering's
 * cost at ingest.
 *
 * A hash goes in only once the row that carried it is known stored: `stored` is called
 * for a batch whose usage this engine's UsageCommitter wrote (not for one found counted
 * already, perhaps in another hour). Forgetting is always safe: a hash missing here is
 * only written again.
 */
export class ActiveSeriesLedger {
  private readonly tenants = new Map<TenantId, TenantHour>();
  private size = 0;

  /** Whether `hash` is stored for `tenant` in `hour`, as far as this engine knows. */
  has(tenant: TenantId, hour: number, hash: bigint): boolean {
    const entry = this.tenants.get(tenant);
    return entry !== undefined && entry.hour === hour && entry.hashes.has(hash);
  }

  /** Rows ClickHouse holds: their hashes are known stored from now on (a later hour replaces an earlier). */
  stored(rows: readonly UsageRecord[]): void {
    for (const row of rows) {
      let entry = this.tenants.get(row.tenantId);
      if (entry && row.hour < entry.hour) continue;
      if (!entry || row.hour > entry.hour) {
        if (entry) this.size -= entry.hashes.size;
        entry = { hour: row.hour, hashes: new Set() };
        this.tenants.set(row.tenantId, entry);
      }
      if (this.size + row.seriesHashes.length > MAX_LEDGER_HASHES) {
        this.clear();
        return;
      }
      for (const hash of row.seriesHashes) {
        if (!entry.hashes.has(hash)) {
          entry.hashes.add(hash);
          this.size++;
        }
      }
    }
  }

  /** The tenant's data was erased, its usage rows with it. */
  forget(tenant: TenantId): void {
    const entry = this.tenants.get(tenant);
    if (!entry) return;
    this.size -= entry.hashes.size;
    this.tenants.delete(tenant);
  }

  /** Hashes held, over all tenants. */
  get hashCount(): number {
    return this.size;
  }

  private clear(): void {
    this.tenants.clear();
    this.size = 0;
  }
}
