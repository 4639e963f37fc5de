import { generateApiKey, hashApiKey, isWellFormedApiKey } from '@seismo/tenancy';
import fc from 'fast-check';
import { AuthException, AuthExceptionCode } from './auth.exception';
import { bearerToken } from './bearer-token';

function refusal(header: unknown): AuthException {
  try {
    bearerToken(header);
  } catch (error) {
    expect(error).toBeInstanceOf(AuthException);
    return error as AuthException;
  }
  throw new Error(`accepted ${JSON.stringify(header)}`);
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A key of the shape generateApiKey makes, from fast-check's bytes so a failure shrinks and replays. */
const apiKey = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((bytes) => `sk_${Buffer.from(bytes).toString('base64url')}`);

/** "Bearer" in any case, then spaces and tabs, as RFC 9110 lets a client write it. */
const scheme = fc
  .tuple(
    fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
    fc.string({ unit: fc.constantFrom(' ', '\t'), minLength: 1, maxLength: 3 }),
  )
  .map(([upper, gap]) => [...'bearer'].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('') + gap);

describe('bearerToken', () => {
  it('reads the token of "Bearer <token>"', () => {
    const key = generateApiKey();
    expect(bearerToken(`Bearer ${key}`)).toBe(key);
    expect(bearerToken('Bearer e2e-admin-token-0123456789')).toBe('e2e-admin-token-0123456789');
  });

  it.each([undefined, ''])('refuses a missing header (%p) as missing', (header) => {
    const error = refusal(header);
    expect([error.code, error.message]).toEqual([
      AuthExceptionCode.MISSING_CREDENTIALS,
      'Authorization: Bearer <api key> is required',
    ]);
  });

  const key = generateApiKey();
  it.each([
    ['no scheme', key],
    ['another scheme', `Basic ${key}`],
    ['the scheme alone', 'Bearer'],
    ['the scheme and a space', 'Bearer '],
    ['no space after the scheme', `Bearer${key}`],
    ['two tokens', `Bearer ${key} ${key}`],
    ['a space inside the token', `Bearer ${key.slice(0, 10)} ${key.slice(10)}`],
    ['a leading space', ` Bearer ${key}`],
    ['a NUL in the token', `Bearer ${key}\u0000`],
    ['a line break after the token', `Bearer ${key}\n`],
    ['a no-break space before the token', `Bearer\u00a0${key}`],
    ['a non-ASCII token', 'Bearer sk_é'],
    ['an array of headers', [`Bearer ${key}`]],
    ['a number', 42],
  ])('refuses %s as malformed', (_, header) => {
    expect(refusal(header).code).toBe(AuthExceptionCode.MALFORMED_CREDENTIALS);
  });

  it('never echoes the token in its message', () => {
    expect(refusal(`Basic ${key}`).message).not.toContain(key.slice(3));
  });

  describe('properties', () => {
    it('throws nothing but an AuthException, whatever the header', () => {
      const header = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.string({ maxLength: 80 }).map((rest) => `Bearer ${rest}`),
        fc.string({ maxLength: 20 }).map((rest) => `bearer\t${rest}`),
        fc.anything(),
      );
      fc.assert(
        fc.property(header, (value) => {
          try {
            const token = bearerToken(value);
            expect(token).toMatch(/^[\x21-\x7e]+$/);
          } catch (error) {
            if (!(error instanceof AuthException)) throw error;
          }
        }),
        { numRuns: 500 },
      );
    });

    it('reads back every well-formed key, whatever the case of the scheme and the spaces around', () => {
      fc.assert(
        fc.property(apiKey, scheme, fc.constantFrom('', ' ', '\t', '  '), (token, prefix, after) => {
          const read = bearerToken(`${prefix}${token}${after}`);
          expect(read).toBe(token);
          expect(isWellFormedApiKey(read)).toBe(true);
        }),
        { numRuns: 200 },
      );
    });

    it('never lets a one-character corruption of a key pass as that key', () => {
      // Replaced, deleted or inserted: the header is refused, or the token is no key's
      // shape, or it is another key, whose hash (what a key is looked up by) differs.
      const corruption = fc.oneof(
        fc.record({
          kind: fc.constant('replace' as const),
          at: fc.nat(),
          by: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
        }),
        fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), by: fc.constant('') }),
        fc.record({
          kind: fc.constant('insert' as const),
          at: fc.nat(),
          by: fc.oneof(
            fc.constantFrom(...BASE64URL, ' ', '=', '+', '/'),
            fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
          ),
        }),
      );
      fc.assert(
        fc.property(apiKey, corruption, (token, { kind, at, by }) => {
          const i = at % (token.length + (kind === 'insert' ? 1 : 0));
          const corrupted = token.slice(0, i) + by + token.slice(kind === 'insert' ? i : i + 1);
          // A space or tab added at either end is the header's whitespace, not the token's.
          fc.pre(corrupted.replace(/^[ \t]+|[ \t]+$/g, '') !== token);
          let read: string;
          try {
            read = bearerToken(`Bearer ${corrupted}`);
          } catch (error) {
            expect(error).toBeInstanceOf(AuthException);
            return;
          }
          if (!isWellFormedApiKey(read)) return;
          expect(read).not.toBe(token);
          expect(hashApiKey(read)).not.toBe(hashApiKey(token));
        }),
        { numRuns: 500 },
      );
    });
  });
});
