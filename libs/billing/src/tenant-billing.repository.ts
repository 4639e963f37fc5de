import { type ClickHouseAccess, type TenantId } from '@seismo/storage';
import { BillingException, BillingExceptionCode } from './billing.exception';

/** What Stripe customer ids look like: `cus_` and letters or digits. */
const CUSTOMER_ID = /^cus_[A-Za-z0-9]{1,200}$/;

/** Checks a Stripe customer id, throwing INVALID_CUSTOMER_ID naming the field otherwise. */
export function parseCustomerId(raw: unknown, field = 'stripe_customer_id'): string {
  if (typeof raw !== 'string' || !CUSTOMER_ID.test(raw)) {
    throw new BillingException(
      BillingExceptionCode.INVALID_CUSTOMER_ID,
      `${field}: expected a Stripe customer id like cus_NffrFeUfNV2Hib, got ${JSON.stringify(raw)}`,
    );
  }
  return raw;
}

/**
 * The only code that touches `tenant_billing`: which Stripe customer each tenant bills to.
 * A change is a new row with a higher version; an empty customer id unlinks.
 */
export class TenantBillingRepository {
  constructor(private readonly clickhouse: ClickHouseAccess) {}

  /** Links `tenant` to `customerId`, or unlinks it with null. */
  async link(tenant: TenantId, customerId: string | null): Promise<void> {
    const customer = customerId === null ? '' : parseCustomerId(customerId);
    try {
      await this.clickhouse.client.insert({
        table: 'tenant_billing',
        values: [{ tenant_id: tenant, stripe_customer_id: customer, version: Date.now() * 1000 }],
        format: 'JSONEachRow',
      });
    } catch (cause) {
      throw storageFailed(`linking tenant ${tenant} to a Stripe customer`, cause);
    }
  }

  /** The Stripe customer `tenant` bills to, or null. */
  async customerOf(tenant: TenantId): Promise<string | null> {
    const rows = await this.read(
      `SELECT tenant_id, stripe_customer_id FROM tenant_billing FINAL WHERE tenant_id = {tenant:String}`,
      { tenant },
    );
    return rows[0]?.stripe_customer_id || null;
  }

  /** Every linked tenant and its customer: what the billing worker bills. */
  async linked(): Promise<Map<TenantId, string>> {
    const rows = await this.read(
      `SELECT tenant_id, stripe_customer_id FROM tenant_billing FINAL WHERE stripe_customer_id != ''`,
      {},
    );
    return new Map(rows.map((row) => [row.tenant_id as TenantId, row.stripe_customer_id]));
  }

  private async read(
    query: string,
    params: Record<string, unknown>,
  ): Promise<Array<{ tenant_id: string; stripe_customer_id: string }>> {
    try {
      const result = await this.clickhouse.client.query({
        query,
        query_params: params,
        format: 'JSONEachRow',
      });
      return await result.json();
    } catch (cause) {
      throw storageFailed('reading Stripe customer links', cause);
    }
  }
}

export function storageFailed(what: string, cause: unknown): BillingException {
  return new BillingException(
    BillingExceptionCode.STORAGE_FAILED,
    `${what} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
    { cause },
  );
}
