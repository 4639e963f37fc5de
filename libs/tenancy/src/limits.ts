import { TenancyException, TenancyExceptionCode } from './tenancy.exception';
import { describeValue } from './tenant.validator';

/**
 * What a tenant may send. A plan sets all of them; a deployment admin may override any
 * one for one tenant (PATCH /v1/tenants/{id} with `limits`). A tenant's own admins can
 * read them but never change them: raising one's own limits is the deployment's call.
 */
export interface TenantLimits {
  /** Sustained points per second, refilled continuously (token bucket). */
  readonly pointsPerSecond: number;
  /** Points that may arrive at once after a quiet spell: the bucket's size. */
  readonly pointsBurst: number;
  /** Sustained ingest requests per second. */
  readonly requestsPerSecond: number;
  /** Requests that may arrive at once: the request bucket's size. */
  readonly requestsBurst: number;
  /** Distinct series the tenant may have; new series beyond it are refused, known ones flow. */
  readonly maxSeries: number;
}

export type LimitName = keyof TenantLimits;

/** Only the limits an admin set for one tenant; the plan gives the rest. */
export type LimitOverrides = Partial<TenantLimits>;

export const PLAN_NAMES = ['free', 'team', 'enterprise'] as const;
export type PlanName = (typeof PLAN_NAMES)[number];

/**
 * The built-in plans. `team` is the default of a new tenant (and of tenants made before
 * plans existed), so that upgrading never throttles anyone who was working; `free` is for
 * trials an operator sets explicitly. Bursts are ten seconds of the sustained rate for
 * points (a collector flushing a backlog) and two for requests.
 */
export const PLANS: Readonly<Record<PlanName, TenantLimits>> = {
  free: {
    pointsPerSecond: 1_000,
    pointsBurst: 10_000,
    requestsPerSecond: 20,
    requestsBurst: 40,
    maxSeries: 1_000,
  },
  team: {
    pointsPerSecond: 50_000,
    pointsBurst: 500_000,
    requestsPerSecond: 500,
    requestsBurst: 1_000,
    maxSeries: 100_000,
  },
  enterprise: {
    pointsPerSecond: 500_000,
    pointsBurst: 5_000_000,
    requestsPerSecond: 5_000,
    requestsBurst: 10_000,
    maxSeries: 2_000_000,
  },
};

export const DEFAULT_PLAN: PlanName = 'team';

export const LIMIT_NAMES: readonly LimitName[] = [
  'pointsPerSecond',
  'pointsBurst',
  'requestsPerSecond',
  'requestsBurst',
  'maxSeries',
];

/** The API's spelling of each limit (`limits.points_per_second`), for bodies, errors and metrics. */
export const LIMIT_FIELDS: Readonly<Record<LimitName, string>> = {
  pointsPerSecond: 'points_per_second',
  pointsBurst: 'points_burst',
  requestsPerSecond: 'requests_per_second',
  requestsBurst: 'requests_burst',
  maxSeries: 'max_series',
};

/** Large enough for any deployment, small enough that the arithmetic stays exact in a double. */
export const MAX_LIMIT = 1_000_000_000;

/** The limits in force: the plan's, with the tenant's overrides on top. */
export function resolveLimits(plan: PlanName, overrides: LimitOverrides): TenantLimits {
  return { ...PLANS[plan], ...definedOnly(overrides) };
}

export function isPlanName(value: unknown): value is PlanName {
  return typeof value === 'string' && (PLAN_NAMES as readonly string[]).includes(value);
}

export function checkPlan(value: unknown, field = 'plan'): PlanName {
  if (!isPlanName(value)) {
    throw new TenancyException(
      TenancyExceptionCode.INVALID_TENANT,
      `${field} must be one of ${PLAN_NAMES.join(', ')}, got ${describeValue(value)}`,
      field,
    );
  }
  return value;
}

/**
 * Overrides as given: each a positive integer up to MAX_LIMIT, and a burst no smaller
 * than one request or point can need (a burst of 0 would refuse everything forever).
 * Throws INVALID_TENANT naming `limits.<name>`.
 */
export function checkLimitOverrides(value: unknown): LimitOverrides {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TenancyException(
      TenancyExceptionCode.INVALID_TENANT,
      `limits must be an object, got ${describeValue(value)}`,
      'limits',
    );
  }
  const out: Partial<Record<LimitName, number>> = {};
  for (const [name, limit] of Object.entries(value as Record<string, unknown>)) {
    if (!(LIMIT_NAMES as readonly string[]).includes(name)) {
      throw new TenancyException(
        TenancyExceptionCode.INVALID_TENANT,
        `limits.${name} is not a limit; the limits are ${LIMIT_NAMES.join(', ')}`,
        `limits.${name}`,
      );
    }
    if (limit === undefined) continue;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new TenancyException(
        TenancyExceptionCode.INVALID_TENANT,
        `limits.${name} must be an integer in 1..${MAX_LIMIT}, got ${describeValue(limit)}`,
        `limits.${name}`,
      );
    }
    out[name as LimitName] = limit;
  }
  return out;
}

/** Stored as JSON in `tenants.limits`; an unreadable value falls back to the plan rather than locking a tenant out. */
export function parseStoredOverrides(json: string): LimitOverrides {
  try {
    return checkLimitOverrides(JSON.parse(json === '' ? '{}' : json));
  } catch {
    return {};
  }
}

function definedOnly(overrides: LimitOverrides): LimitOverrides {
  return Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
}
