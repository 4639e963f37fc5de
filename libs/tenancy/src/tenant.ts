import { randomUUID } from 'node:crypto';
import { parseTenantId, type TenantId } from '@seismo/storage';
import { type LimitOverrides, type PlanName } from './limits';

/** A tenant as the rest of Seismo sees it: who it is and how long its data is kept. */
export interface Tenant {
  readonly id: TenantId;
  readonly name: string;
  /** Days a point is kept, 1..3650; not applied while `zeroRetention` is on. */
  readonly pointsDays: number;
  /** Days an anomaly is kept, 1..3650. */
  readonly anomaliesDays: number;
  /** Points are scored but never stored; anomalies are still kept for `anomaliesDays`. */
  readonly zeroRetention: boolean;
  /** The plan its limits come from (limits.ts). */
  readonly plan: PlanName;
  /** Limits a deployment admin set for this tenant over its plan's. */
  readonly limitOverrides: LimitOverrides;
  /** Set once the tenant is closed (epoch ms): its keys stop, and its data is erased at `closure.purgeAfter`. */
  readonly closure?: TenantClosure;
}

/** Offboarding: when a tenant was closed and when its data is erased unless it is reopened first. */
export interface TenantClosure {
  /** Epoch milliseconds. */
  readonly closedAt: number;
  /** Epoch milliseconds: `closedAt` plus the grace period. */
  readonly purgeAfter: number;
}

/** What the engine writes into each row, whose TTL reads it: `pointsDays` 0 means "do not store". */
export interface TenantRetention {
  readonly pointsDays: number;
  readonly anomaliesDays: number;
}

/** What an admin gives to create a tenant; omitted fields take the defaults below. */
export interface NewTenant {
  readonly name: string;
  readonly pointsDays?: number;
  readonly anomaliesDays?: number;
  readonly zeroRetention?: boolean;
  readonly plan?: PlanName;
  readonly limitOverrides?: LimitOverrides;
}

export const DEFAULT_POINTS_DAYS = 30;
/** Thirteen months: a year of anomalies, compared with the same month last year. */
export const DEFAULT_ANOMALIES_DAYS = 395;
export const MIN_RETENTION_DAYS = 1;
/** Ten years; the rows' UInt16 column could hold 179, but nothing needs that. */
export const MAX_RETENTION_DAYS = 3650;
export const MAX_TENANT_NAME_LENGTH = 100;
/** Days a closed tenant's data is kept before it is erased, unless the admin closing it chose otherwise. */
export const DEFAULT_GRACE_DAYS = 30;
export const MAX_GRACE_DAYS = 90;

/** The retention to write into a tenant's rows now. */
export function tenantRetention(tenant: Tenant): TenantRetention {
  return {
    pointsDays: tenant.zeroRetention ? 0 : tenant.pointsDays,
    anomaliesDays: tenant.anomaliesDays,
  };
}

/**
 * A fresh tenant id. A random UUID rather than anything derived from the name: names
 * change and collide, and an id also appears in topic names (seismo.in.<tenant>) and
 * metric labels, where the UUID alphabet needs no quoting.
 */
export function newTenantId(): TenantId {
  return parseTenantId(randomUUID());
}

/** What an admin may change of a tenant (PATCH /v1/tenants/{id}); omitted fields stay. */
export type TenantChanges = Partial<NewTenant>;
