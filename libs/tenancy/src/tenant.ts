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
  /** Whether and how its anomalies are triaged by the deployment's LLM (off by default). */
  readonly llm: TenantLlmSettings;
  /** Set once the tenant is closed (epoch ms): its keys stop, and its data is erased at `closure.purgeAfter`. */
  readonly closure?: TenantClosure;
}

export const EXPECTED_POLICIES = ['suppress', 'downgrade', 'annotate'] as const;
export type ExpectedPolicy = (typeof EXPECTED_POLICIES)[number];

/** A tenant's LLM settings. */
export interface TenantLlmSettings {
  /** Anomalies of this tenant are triaged by the deployment's LLM (default false). */
  readonly triage: boolean;
  /** Tokens per UTC day this tenant may spend; undefined: the deployment's SEISMO_LLM_TENANT_DAILY_TOKENS. 0..1e9 */
  readonly dailyTokens?: number;
  /** What an `expected` verdict does to its alert: 'suppress' (no alert), 'downgrade' (severity info, still alerts; the default), 'annotate' (alerts unchanged, verdict shown). */
  readonly expectedPolicy: ExpectedPolicy;
  /** Label names whose values are never sent to the LLM (replaced by "[redacted]"); globs with * allowed; at most 50, each ≤ 100 chars. */
  readonly redactLabels: readonly string[];
  /** Series are profiled (kind, direction, seasonality, unit) by one cached LLM call the first time they are seen (default true when triage is on). */
  readonly profiling: boolean;
}

/** The settings of a tenant nobody set any for, and of tenants made before LLM triage existed. */
export const DEFAULT_TENANT_LLM: TenantLlmSettings = {
  triage: false,
  expectedPolicy: 'downgrade',
  redactLabels: [],
  profiling: true,
};

/** Every setting's name: what validation accepts, and what audit entries compare. */
export const TENANT_LLM_FIELDS: readonly (keyof TenantLlmSettings)[] = [
  'triage',
  'dailyTokens',
  'expectedPolicy',
  'redactLabels',
  'profiling',
];

export const MAX_LLM_DAILY_TOKENS = 1_000_000_000;
export const MAX_REDACT_LABELS = 50;
export const MAX_REDACT_LABEL_LENGTH = 100;

/**
 * LLM settings to set: omitted ones keep their value (a new tenant's, the defaults);
 * `dailyTokens: null` returns to the deployment's budget.
 */
export interface TenantLlmChanges extends Partial<Omit<TenantLlmSettings, 'dailyTokens'>> {
  readonly dailyTokens?: number | null;
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
  readonly llm?: TenantLlmChanges;
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

/**
 * What an admin may change of a tenant (PATCH /v1/tenants/{id}); omitted fields stay, and
 * `llm` is merged into the current settings.
 */
export type TenantChanges = Partial<NewTenant>;
