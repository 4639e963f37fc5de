import { AuthException, AuthExceptionCode } from './auth.exception';

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750), or an AuthException
 * saying what is wrong with the header; nothing else is ever thrown, whatever `header`
 * holds (Node gives a string, but a caller may pass what it likes). The scheme is
 * case-insensitive and may be followed by several spaces, as RFC 9110 allows; the token
 * is one run of visible ASCII, the characters a token (API key or admin token) is made of.
 */
export function bearerToken(header: unknown): string {
  if (header === undefined || header === '') {
    throw new AuthException(
      AuthExceptionCode.MISSING_CREDENTIALS,
      'Authorization: Bearer <api key> is required',
    );
  }
  const match = typeof header === 'string' ? BEARER.exec(header) : null;
  if (match === null) {
    throw new AuthException(
      AuthExceptionCode.MALFORMED_CREDENTIALS,
      'Authorization: must be "Bearer <api key>" (one space-separated token, visible ASCII only)',
    );
  }
  return match[1];
}

// Spaces and tabs only around the token, not \s: a no-break space or a line separator is
// no HTTP whitespace, and a token holding one cannot be a key.
const BEARER = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i;
