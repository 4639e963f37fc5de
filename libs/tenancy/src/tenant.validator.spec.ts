import fc from 'fast-check';
import { TenancyException, TenancyExceptionCode } from './tenancy.exception';
import { MAX_RETENTION_DAYS, MAX_TENANT_NAME_LENGTH, MIN_RETENTION_DAYS, type NewTenant } from './tenant';
import { validateNewTenant } from './tenant.validator';

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
  it('fills in the defaults: 30 days of points, 395 of anomalies, retention on, the team plan', () => {
    expect(validateNewTenant({ name: 'Acme' })).toEqual({
      name: 'Acme',
      pointsDays: 30,
      anomaliesDays: 395,
      zeroRetention: false,
      plan: 'team',
      limitOverrides: {},
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
