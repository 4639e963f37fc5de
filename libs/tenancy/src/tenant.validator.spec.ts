import fc from 'fast-check';
import { TenancyException, TenancyExceptionCode } from './tenancy.exception';
import {
  DEFAULT_TENANT_LLM,
  MAX_RETENTION_DAYS,
  MAX_TENANT_NAME_LENGTH,
  MIN_RETENTION_DAYS,
  type NewTenant,
  type TenantLlmChanges,
} from './tenant';
import { parseStoredLlmSettings, validateNewTenant } from './tenant.validator';

function refusal(input: NewTenant): TenancyException {
  try {
    validateNewTenant(input);
  } catch (error) {
    expect(error).toBeInstanceOf(TenancyException);
    expect((error as TenancyException).code).toBe(TenancyExceptionCode.INVALID_TENANT);
    return error as TenancyException;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe('validateNewTenant', () => {
  it('fills in the defaults: 30 days of points, 395 of anomalies, retention on, the team plan, no LLM triage', () => {
    expect(validateNewTenant({ name: 'Acme' })).toEqual({
      name: 'Acme',
      pointsDays: 30,
      anomaliesDays: 395,
      zeroRetention: false,
      plan: 'team',
      limitOverrides: {},
      llm: { triage: false, expectedPolicy: 'downgrade', redactLabels: [], profiling: true },
    });
  });

  it('keeps what was given, at the bounds', () => {
    expect(
      validateNewTenant({ name: 'x'.repeat(100), pointsDays: 1, anomaliesDays: 3650, zeroRetention: true }),
    ).toEqual({
      name: 'x'.repeat(100),
      pointsDays: 1,
      anomaliesDays: 3650,
      zeroRetention: true,
      plan: 'team',
      limitOverrides: {},
      llm: DEFAULT_TENANT_LLM,
    });
  });

  it('counts characters, not UTF-16 units', () => {
    expect(validateNewTenant({ name: '🦊'.repeat(100) }).name).toBe('🦊'.repeat(100));
    expect(refusal({ name: '🦊'.repeat(101) }).message).toBe('name must be 1-100 characters, got 101');
  });

  it.each([
    ['', 'name must be 1-100 characters, got 0'],
    ['x'.repeat(101), 'name must be 1-100 characters, got 101'],
    ['   ', 'name must not be blank'],
    ['line\nbreak', 'name must not contain control characters or unpaired surrogates'],
    ['nul\u0000', 'name must not contain control characters or unpaired surrogates'],
    ['del\u007f', 'name must not contain control characters or unpaired surrogates'],
    ['half \ud83e', 'name must not contain control characters or unpaired surrogates'],
  ])('refuses the name %j, naming the field', (name, message) => {
    const error = refusal({ name });
    expect(error.field).toBe('name');
    expect(error.message).toBe(message);
  });

  it('refuses a name that is not a string', () => {
    expect(refusal({ name: 42 as unknown as string }).message).toBe('name must be a string');
  });

  it.each([
    ['pointsDays', 0, '0'],
    ['pointsDays', 3651, '3651'],
    ['pointsDays', 1.5, '1.5'],
    ['pointsDays', Number.NaN, 'NaN'],
    ['pointsDays', '30', '"30"'],
    ['anomaliesDays', -1, '-1'],
    ['anomaliesDays', true, 'true'],
    ['anomaliesDays', Infinity, 'Infinity'],
  ])('refuses %s = %p, naming the field', (field, value, shown) => {
    const error = refusal({ name: 'Acme', [field]: value } as unknown as NewTenant);
    expect(error.field).toBe(field);
    expect(error.message).toBe(`${field} must be an integer number of days in 1..3650, got ${shown}`);
  });

  it('refuses a zeroRetention that is not a boolean', () => {
    const error = refusal({ name: 'Acme', zeroRetention: 'yes' as unknown as boolean });
    expect(error.field).toBe('zeroRetention');
    expect(error.message).toBe('zeroRetention must be true or false, got "yes"');
  });
});

describe('validateNewTenant, LLM settings', () => {
  const llmOf = (llm: TenantLlmChanges) => validateNewTenant({ name: 'Acme', llm }).llm;
  const llmRefusal = (llm: unknown) => refusal({ name: 'Acme', llm } as NewTenant);

  it('keeps what was given over the defaults, at the bounds, labels without repeats', () => {
    expect(llmOf({ triage: true })).toEqual({ ...DEFAULT_TENANT_LLM, triage: true });
    expect(
      llmOf({
        triage: true,
        dailyTokens: 1_000_000_000,
        expectedPolicy: 'suppress',
        redactLabels: ['customer_*', 'email', 'customer_*', 'x'.repeat(100), ...Array(46).fill('y')],
        profiling: false,
      }),
    ).toEqual({
      triage: true,
      dailyTokens: 1_000_000_000,
      expectedPolicy: 'suppress',
      redactLabels: ['customer_*', 'email', 'x'.repeat(100), 'y'],
      profiling: false,
    });
    expect(llmOf({ dailyTokens: 0 }).dailyTokens).toBe(0);
  });

  it("reads a null dailyTokens as the deployment's budget", () => {
    expect(llmOf({ dailyTokens: null })).toEqual(DEFAULT_TENANT_LLM);
    expect('dailyTokens' in llmOf({ dailyTokens: null })).toBe(false);
  });

  it.each([
    [
      { expectedPolicy: 'ignore' },
      'llm.expectedPolicy',
      'llm.expectedPolicy must be one of suppress, downgrade, annotate, got "ignore"',
    ],
    [
      { expectedPolicy: 1 },
      'llm.expectedPolicy',
      'llm.expectedPolicy must be one of suppress, downgrade, annotate, got 1',
    ],
    [
      { dailyTokens: -1 },
      'llm.dailyTokens',
      'llm.dailyTokens must be an integer number of tokens in 0..1000000000, got -1',
    ],
    [
      { dailyTokens: 1_000_000_001 },
      'llm.dailyTokens',
      'llm.dailyTokens must be an integer number of tokens in 0..1000000000, got 1000000001',
    ],
    [
      { dailyTokens: 2.5 },
      'llm.dailyTokens',
      'llm.dailyTokens must be an integer number of tokens in 0..1000000000, got 2.5',
    ],
    [
      { dailyTokens: '5' },
      'llm.dailyTokens',
      'llm.dailyTokens must be an integer number of tokens in 0..1000000000, got "5"',
    ],
    [
      { redactLabels: ['host', ''] },
      'llm.redactLabels[1]',
      'llm.redactLabels[1] must be 1-100 characters, got 0',
    ],
    [
      { redactLabels: ['x'.repeat(101)] },
      'llm.redactLabels[0]',
      'llm.redactLabels[0] must be 1-100 characters, got 101',
    ],
    [
      { redactLabels: ['a\nb'] },
      'llm.redactLabels[0]',
      'llm.redactLabels[0] must not contain control characters or unpaired surrogates',
    ],
    [{ redactLabels: [7] }, 'llm.redactLabels[0]', 'llm.redactLabels[0] must be a string'],
    [
      { redactLabels: Array(51).fill('a') },
      'llm.redactLabels',
      'llm.redactLabels must be an array of at most 50 label names, got 51 of them',
    ],
    [
      { redactLabels: 'email' },
      'llm.redactLabels',
      'llm.redactLabels must be an array of at most 50 label names, got "email"',
    ],
    [{ triage: 'yes' }, 'llm.triage', 'llm.triage must be true or false, got "yes"'],
    [{ profiling: 0 }, 'llm.profiling', 'llm.profiling must be true or false, got 0'],
    [
      { model: 'gpt' },
      'llm.model',
      'llm.model is not an LLM setting; the settings are triage, dailyTokens, expectedPolicy, redactLabels, profiling',
    ],
    ['on', 'llm', 'llm must be an object, got "on"'],
    [[true], 'llm', 'llm must be an object, got an array'],
  ])('refuses llm %j, naming the field', (llm, field, message) => {
    const error = llmRefusal(llm);
    expect(error.field).toBe(field);
    expect(error.message).toBe(message);
  });
});

describe('parseStoredLlmSettings', () => {
  it("reads '' (a tenant from before migration 0015) as the defaults", () => {
    expect(parseStoredLlmSettings('')).toEqual(DEFAULT_TENANT_LLM);
  });

  it('reads what was stored', () => {
    const stored = {
      triage: true,
      dailyTokens: 5000,
      expectedPolicy: 'annotate',
      redactLabels: ['email'],
      profiling: false,
    };
    expect(parseStoredLlmSettings(JSON.stringify(stored))).toEqual(stored);
  });

  it.each([
    ['{', 'malformed'],
    ['{"triage":true,"expectedPolicy":"ignore"}', 'out of range'],
    ['{"triage":true,"sendValues":false}', 'a setting this build does not know'],
    ['[true]', 'not an object'],
    ['null', 'null'],
  ])('reads %j (%s) as the defaults, triage off', (json) => {
    expect(parseStoredLlmSettings(json)).toEqual(DEFAULT_TENANT_LLM);
  });
});

describe('validateNewTenant, properties', () => {
  /** What validation must throw, if anything: an INVALID_TENANT naming one of the input's fields. */
  function outcome(input: NewTenant): 'ok' | string {
    try {
      validateNewTenant(input);
      return 'ok';
    } catch (error) {
      expect(error).toBeInstanceOf(TenancyException);
      expect((error as TenancyException).code).toBe(TenancyExceptionCode.INVALID_TENANT);
      return (error as TenancyException).field!;
    }
  }

  const CONTROL = /[\p{Cc}\p{Cs}]/u;

  it('takes exactly the names of 1-100 characters, not blank, without control characters', () => {
    const name = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 120 }),
      fc.string({ unit: 'binary', maxLength: 120 }),
      fc.string({ maxLength: 10 }).map((text) => `${text}\u0000`),
      fc.constantFrom('\u007f', 'a\u0085b', '\ud800', ' \t '),
    );
    fc.assert(
      fc.property(name, (text) => {
        const length = [...text].length;
        const valid =
          length >= 1 && length <= MAX_TENANT_NAME_LENGTH && text.trim() !== '' && !CONTROL.test(text);
        const answer = outcome({ name: text });
        expect(answer).toBe(valid ? 'ok' : 'name');
        if (valid) expect(validateNewTenant({ name: text }).name).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('takes exactly whole days in range for both retentions, naming the one at fault', () => {
    const days = fc.oneof(
      fc.integer({ min: -10, max: MAX_RETENTION_DAYS + 10 }),
      fc.double(),
      fc.constantFrom(Number.NaN, Infinity, -Infinity),
      fc.anything(),
    );
    const inRange = (d: unknown) =>
      typeof d === 'number' && Number.isInteger(d) && d >= MIN_RETENTION_DAYS && d <= MAX_RETENTION_DAYS;
    fc.assert(
      fc.property(days, days, (pointsDays, anomaliesDays) => {
        const input = { name: 'Acme', pointsDays, anomaliesDays } as unknown as NewTenant;
        // Absent (undefined, or null as `??` reads it) is the default.
        const wrong = (d: unknown) => d !== undefined && d !== null && !inRange(d);
        const expected = wrong(pointsDays) ? 'pointsDays' : wrong(anomaliesDays) ? 'anomaliesDays' : 'ok';
        expect(outcome(input)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});
