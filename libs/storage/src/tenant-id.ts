import { StorageException, StorageExceptionCode } from './storage.exception';

declare const tenantIdBrand: unique symbol;

/**
 * A tenant's id, as only `parseTenantId` makes it. Every repository method takes one, so
 * a query that forgot its tenant, or was handed an unchecked string, does not compile.
 */
export type TenantId = string & { readonly [tenantIdBrand]: true };

// Letters, digits, '_' and '-': enough for generated ids, and nothing that needs quoting
// in a log line, a Kafka topic (seismo.in.<tenant>) or a metric label.
const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Checks `raw` and brands it; throws INVALID_TENANT_ID naming the value otherwise. */
export function parseTenantId(raw: string): TenantId {
  if (typeof raw !== 'string' || !TENANT_ID.test(raw)) {
    throw new StorageException(
      StorageExceptionCode.INVALID_TENANT_ID,
      `invalid tenant id ${JSON.stringify(raw)}: expected 1-64 letters, digits, '_' or '-', starting with a letter or digit`,
    );
  }
  return raw as TenantId;
}
