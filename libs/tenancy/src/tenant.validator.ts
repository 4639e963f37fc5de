import { checkLimitOverrides, checkPlan, DEFAULT_PLAN } from './limits';
import { TenancyException, TenancyExceptionCode } from './tenancy.exception';
import {
  DEFAULT_ANOMALIES_DAYS,
  DEFAULT_POINTS_DAYS,
  DEFAULT_TENANT_LLM,
  EXPECTED_POLICIES,
  type ExpectedPolicy,
  MAX_LLM_DAILY_TOKENS,
  MAX_REDACT_LABEL_LENGTH,
  MAX_REDACT_LABELS,
  MAX_RETENTION_DAYS,
  MAX_TENANT_NAME_LENGTH,
  MIN_RETENTION_DAYS,
  type NewTenant,
  TENANT_LLM_FIELDS,
  type TenantLlmSettings,
} from './tenant';

/** A NewTenant that passed validation, every default filled in. */
export type ValidNewTenant = Required<Omit<NewTenant, 'llm'>> & { readonly llm: TenantLlmSettings };

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
    llm: checkLlmSettings(input.llm ?? {}),
  };
}

/**
 * LLM settings as given (a TenantLlmChanges: omitted or null ones take the defaults), every
 * one checked; throws INVALID_TENANT naming `llm.<setting>`. Redacted labels come back
 * without repeats, in the order given.
 */
export function checkLlmSettings(value: unknown): TenantLlmSettings {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid('llm', `llm must be an object, got ${describeValue(value)}`);
  }
  const given = value as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!(TENANT_LLM_FIELDS as readonly string[]).includes(name)) {
      throw invalid(
        `llm.${name}`,
        `llm.${name} is not an LLM setting; the settings are ${TENANT_LLM_FIELDS.join(', ')}`,
      );
    }
  }
  // null (a change back to the deployment's budget) and absent are the same: no budget of its own.
  const dailyTokens = given.dailyTokens ?? undefined;
  return {
    triage: checkFlag(given.triage ?? DEFAULT_TENANT_LLM.triage, 'llm.triage'),
    ...(dailyTokens !== undefined ? { dailyTokens: checkDailyTokens(dailyTokens) } : {}),
    expectedPolicy: checkExpectedPolicy(given.expectedPolicy ?? DEFAULT_TENANT_LLM.expectedPolicy),
    redactLabels: checkRedactLabels(given.redactLabels ?? DEFAULT_TENANT_LLM.redactLabels),
    profiling: checkFlag(given.profiling ?? DEFAULT_TENANT_LLM.profiling, 'llm.profiling'),
  };
}

/**
 * Stored as JSON in `tenants.llm` (migration 0015), '' for the defaults, and read with the
 * same checks as input. A value this build cannot read in full (malformed, or a setting a
 * newer version added) reads as the defaults, triage off: a tenant is never triaged, nor
 * its labels sent, under settings that may not be the ones it chose.
 */
export function parseStoredLlmSettings(json: string): TenantLlmSettings {
  if (json === '') return DEFAULT_TENANT_LLM;
  try {
    return checkLlmSettings(JSON.parse(json));
  } catch {
    return DEFAULT_TENANT_LLM;
  }
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

function checkDailyTokens(tokens: unknown): number {
  if (
    typeof tokens !== 'number' ||
    !Number.isInteger(tokens) ||
    tokens < 0 ||
    tokens > MAX_LLM_DAILY_TOKENS
  ) {
    throw invalid(
      'llm.dailyTokens',
      `llm.dailyTokens must be an integer number of tokens in 0..${MAX_LLM_DAILY_TOKENS}, got ${describeValue(tokens)}`,
    );
  }
  return tokens;
}

function checkExpectedPolicy(policy: unknown): ExpectedPolicy {
  if (typeof policy !== 'string' || !(EXPECTED_POLICIES as readonly string[]).includes(policy)) {
    throw invalid(
      'llm.expectedPolicy',
      `llm.expectedPolicy must be one of ${EXPECTED_POLICIES.join(', ')}, got ${describeValue(policy)}`,
    );
  }
  return policy as ExpectedPolicy;
}

function checkRedactLabels(labels: unknown): string[] {
  if (!Array.isArray(labels) || labels.length > MAX_REDACT_LABELS) {
    throw invalid(
      'llm.redactLabels',
      `llm.redactLabels must be an array of at most ${MAX_REDACT_LABELS} label names, got ${
        Array.isArray(labels) ? `${labels.length} of them` : describeValue(labels)
      }`,
    );
  }
  const checked = labels.map((label: unknown, index) =>
    checkDisplayName(
      label,
      `llm.redactLabels[${index}]`,
      MAX_REDACT_LABEL_LENGTH,
      TenancyExceptionCode.INVALID_TENANT,
    ),
  );
  return [...new Set(checked)];
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
