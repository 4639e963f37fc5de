import { checkLimitOverrides, checkPlan, DEFAULT_PLAN } from './limits';
import { TenancyException, TenancyExceptionCode } from './tenancy.exception';
import {
  DEFAULT_ANOMALIES_DAYS,
  DEFAULT_POINTS_DAYS,
  MAX_RETENTION_DAYS,
  MAX_TENANT_NAME_LENGTH,
  MIN_RETENTION_DAYS,
  type NewTenant,
} from './tenant';

/** A NewTenant that passed validation, every default filled in. */
export type ValidNewTenant = Required<NewTenant>;

// Control characters would break log lines and terminal output; an unpaired surrogate
// is not text at all and would reach ClickHouse as invalid UTF-8.
const UNPRINTABLE = /[\p{Cc}\p{Cs}]/u;

/**
 * Checks what an admin asked for. The first field at fault is named, as the input spells
 * it (`pointsDays`), in both the message and `TenancyException.field`, so the HTTP layer
 * can map it to its own spelling.
 */
export function validateNewTenant(input: NewTenant): ValidNewTenant {
  return {
    name: checkDisplayName(input.name, 'name', MAX_TENANT_NAME_LENGTH, TenancyExceptionCode.INVALID_TENANT),
    pointsDays: checkDays(input.pointsDays ?? DEFAULT_POINTS_DAYS, 'pointsDays'),
    anomaliesDays: checkDays(input.anomaliesDays ?? DEFAULT_ANOMALIES_DAYS, 'anomaliesDays'),
    zeroRetention: checkFlag(input.zeroRetention ?? false, 'zeroRetention'),
    plan: checkPlan(input.plan ?? DEFAULT_PLAN),
    limitOverrides: checkLimitOverrides(input.limitOverrides ?? {}),
  };
}

/**
 * A name people give and read (a tenant's, an API key's): 1..`max` characters as a person
 * counts them, not blank, nothing that breaks a log line. Throws `code` naming `field`.
 */
export function checkDisplayName(
  name: unknown,
  field: string,
  max: number,
  code: TenancyExceptionCode,
): string {
  const fail = (message: string) => new TenancyException(code, message, field);
  if (typeof name !== 'string') throw fail(`${field} must be a string`);
  // Counted in characters a person sees as one (code points), not UTF-16 units.
  const length = [...name].length;
  if (length < 1 || length > max) {
    throw fail(`${field} must be 1-${max} characters, got ${length}`);
  }
  if (name.trim() === '') throw fail(`${field} must not be blank`);
  if (UNPRINTABLE.test(name)) {
    throw fail(`${field} must not contain control characters or unpaired surrogates`);
  }
  return name;
}

function checkDays(days: unknown, field: string): number {
  if (
    typeof days !== 'number' ||
    !Number.isInteger(days) ||
    days < MIN_RETENTION_DAYS ||
    days > MAX_RETENTION_DAYS
  ) {
    throw invalid(
      field,
      `${field} must be an integer number of days in ${MIN_RETENTION_DAYS}..${MAX_RETENTION_DAYS}, got ${describeValue(days)}`,
    );
  }
  return days;
}

function checkFlag(flag: unknown, field: string): boolean {
  if (typeof flag !== 'boolean')
    throw invalid(field, `${field} must be true or false, got ${describeValue(flag)}`);
  return flag;
}

/** A value, briefly, for an error message: never a whole long string. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

function invalid(field: string, message: string): TenancyException {
  return new TenancyException(TenancyExceptionCode.INVALID_TENANT, message, field);
}
