import { checkScopes, validateNewApiKey } from './api-key.validator';
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
