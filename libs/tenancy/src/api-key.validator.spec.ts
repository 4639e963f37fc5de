import fc from 'fast-check';
import { SCOPES } from './access';
import { checkScopes, MAX_API_KEY_NAME_LENGTH, type NewApiKey, validateNewApiKey } from './api-key.validator';
import { TenancyException, TenancyExceptionCode } from './tenancy.exception';

function refusal(run: () => unknown): TenancyException {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TenancyException);
    expect((error as TenancyException).code).toBe(TenancyExceptionCode.INVALID_API_KEY);
    return error as TenancyException;
  }
  throw new Error('accepted');
}

describe('checkScopes', () => {
  it('deduplicates and lists scopes in one order', () => {
    expect(checkScopes(['admin', 'ingest', 'admin'])).toEqual(['ingest', 'admin']);
    expect(checkScopes(['read'])).toEqual(['read']);
  });

  it.each([[[]], [undefined], ['read'], [{}]])('refuses %p as a whole', (scopes) => {
    const error = refusal(() => checkScopes(scopes));
    expect(error.field).toBe('scopes');
    expect(error.message).toMatch(/^scopes must be a non-empty array of ingest, read, admin/);
  });

  it('names the position of an unknown scope', () => {
    const error = refusal(() => checkScopes(['read', 'write']));
    expect(error.field).toBe('scopes[1]');
    expect(error.message).toBe('scopes[1] must be one of ingest, read, admin, got "write"');
  });
});

describe('validateNewApiKey', () => {
  it('keeps a valid key, member or not', () => {
    expect(validateNewApiKey({ name: 'telegraf', scopes: ['ingest'] })).toEqual({
      name: 'telegraf',
      scopes: ['ingest'],
    });
    expect(validateNewApiKey({ name: 'laptop', scopes: ['read', 'ingest'], memberId: 'mem_1' })).toEqual({
      name: 'laptop',
      scopes: ['ingest', 'read'],
      memberId: 'mem_1',
    });
  });

  it.each([
    ['', 'name must be 1-100 characters, got 0'],
    ['x'.repeat(101), 'name must be 1-100 characters, got 101'],
    [' ', 'name must not be blank'],
    ['a\nb', 'name must not contain control characters'],
  ])('refuses the name %j', (name, message) => {
    const error = refusal(() => validateNewApiKey({ name, scopes: ['read'] }));
    expect(error.field).toBe('name');
    expect(error.message).toContain(message);
  });

  it('refuses an empty member id', () => {
    expect(refusal(() => validateNewApiKey({ name: 'k', scopes: ['read'], memberId: '' })).field).toBe(
      'member_id',
    );
  });
});

describe('validateNewApiKey, properties', () => {
  const scope = fc.oneof(
    fc.constantFrom(...SCOPES),
    fc.constantFrom('Read', 'write', '', ' admin'),
    fc.anything(),
  );

  it('takes a key exactly when its name and every scope are valid, naming the first field at fault', () => {
    const name = fc.oneof(
      fc.string({ minLength: 1, maxLength: 20 }).filter((n) => n.trim() !== '' && !/[\p{Cc}\p{Cs}]/u.test(n)),
      fc.string({ unit: 'binary', maxLength: MAX_API_KEY_NAME_LENGTH + 5 }),
      fc.anything(),
    );
    fc.assert(
      fc.property(name, fc.oneof(fc.array(scope, { maxLength: 5 }), fc.anything()), (keyName, scopes) => {
        let made: NewApiKey | undefined;
        let refused: unknown;
        try {
          made = validateNewApiKey({ name: keyName, scopes } as NewApiKey);
        } catch (error) {
          refused = error;
        }
        const validName =
          typeof keyName === 'string' &&
          [...keyName].length >= 1 &&
          [...keyName].length <= MAX_API_KEY_NAME_LENGTH &&
          keyName.trim() !== '' &&
          !/[\p{Cc}\p{Cs}]/u.test(keyName);
        const badScope = Array.isArray(scopes)
          ? scopes.findIndex((s) => !(SCOPES as readonly unknown[]).includes(s))
          : -1;
        const field = !validName
          ? 'name'
          : !Array.isArray(scopes) || scopes.length === 0
            ? 'scopes'
            : badScope >= 0
              ? `scopes[${badScope}]`
              : undefined;
        if (field === undefined) {
          // Deduplicated, in SCOPES order, each one asked for.
          expect(made?.scopes).toEqual(SCOPES.filter((s) => (scopes as unknown[]).includes(s)));
        } else {
          expect(refused).toBeInstanceOf(TenancyException);
          expect((refused as TenancyException).code).toBe(TenancyExceptionCode.INVALID_API_KEY);
          expect((refused as TenancyException).field).toBe(field);
        }
      }),
      { numRuns: 300 },
    );
  });
});
