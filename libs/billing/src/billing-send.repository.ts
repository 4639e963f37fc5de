import { type ClickHouseAccess, type TenantId, type UsageMeter } from '@seismo/storage';
import { type BillingSend, type BillingSendStatus } from './billing-send';
import { storageFailed } from './tenant-billing.repository';

/**
 * The only code that touches `billing_sends`, the send-log: what was (or is about to be)
 * sent to Stripe. A change of status is a new row with a higher version; reads use FINAL.
 */
export class BillingSendRepository {
  private lastVersion = 0;

  constructor(private readonly clickhouse: ClickHouseAccess) {}

  /** Records `sends` as they now are; resolves once ClickHouse has them. */
  async record(sends: readonly BillingSend[]): Promise<void> {
    if (sends.length === 0) return;
    const values = sends.map((send) => ({
      tenant_id: send.tenantId,
      meter: send.meter,
      hour: send.hour / 1000,
      seq: send.seq,
      identifier: send.identifier,
      stripe_customer_id: send.customerId,
      value: send.value,
      status: send.status,
      detail: send.detail,
      updated_at: send.updatedAt,
      version: this.nextVersion(),
    }));
    try {
      await this.clickhouse.client.insert({ table: 'billing_sends', values, format: 'JSONEachRow' });
    } catch (cause) {
      throw storageFailed(`recording ${sends.length} meter events in the send-log`, cause);
    }
  }

  /** The send-log of some tenants, every hour, oldest first. */
  async of(tenants: readonly TenantId[]): Promise<BillingSend[]> {
    if (tenants.length === 0) return [];
    let rows: SendRow[];
    try {
      const result = await this.clickhouse.client.query({
        query: `SELECT tenant_id, meter, toUnixTimestamp(hour) * 1000 AS hour_ms, seq, identifier,
                  stripe_customer_id, value, status, detail, toUnixTimestamp64Milli(updated_at) AS updated_ms
                FROM billing_sends FINAL
                WHERE tenant_id IN {tenants:Array(String)}
                ORDER BY tenant_id, hour, meter, seq`,
        query_params: { tenants },
        format: 'JSONEachRow',
      });
      rows = await result.json<SendRow>();
    } catch (cause) {
      throw storageFailed('reading the send-log', cause);
    }
    return rows.map((row) => ({
      tenantId: row.tenant_id as TenantId,
      meter: row.meter as UsageMeter,
      hour: Number(row.hour_ms),
      seq: row.seq,
      identifier: row.identifier,
      customerId: row.stripe_customer_id,
      value: Number(row.value),
      status: row.status as BillingSendStatus,
      detail: row.detail,
      updatedAt: Number(row.updated_ms),
    }));
  }

  /** Epoch microseconds, strictly increasing within this process, so a later change always wins. */
  private nextVersion(): number {
    this.lastVersion = Math.max(this.lastVersion + 1, Date.now() * 1000);
    return this.lastVersion;
  }
}

interface SendRow {
  tenant_id: string;
  meter: string;
  hour_ms: string;
  seq: number;
  identifier: string;
  stripe_customer_id: string;
  value: string;
  status: string;
  detail: string;
  updated_ms: string;
}
