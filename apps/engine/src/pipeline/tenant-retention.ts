import { type TenantId } from '@seismo/storage';

/** How long a tenant's rows are kept, as written into each row (the tables' TTL reads it). */
export interface TenantRetention {
  /** 1..65535 days, or 0 for a zero-retention tenant: its points are scored but not stored. */
  readonly pointsDays: number;
  /** 1..65535 days. */
  readonly anomaliesDays: number;
}

/** The current retention of a tenant; called once per message, so it should read a cache. */
export type RetentionOf = (tenant: TenantId) => TenantRetention;
