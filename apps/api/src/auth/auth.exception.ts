/** Why a request's credentials were refused: every code is a 401, which the API's exception filter applies. */
export enum AuthExceptionCode {
  /** No `Authorization` header, or an empty one. */
  MISSING_CREDENTIALS = 'MISSING_CREDENTIALS',
  /** A header that is not `Bearer <token>`, or a token that cannot be an API key (not `sk_` and 43 base64url characters). */
  MALFORMED_CREDENTIALS = 'MALFORMED_CREDENTIALS',
  /** A well-formed token that opens nothing: an unknown or revoked key, a removed member's key, a wrong admin token. */
  INVALID_CREDENTIALS = 'INVALID_CREDENTIALS',
}

/** Credentials refused. The message says what was wrong with them and never echoes the token. */
export class AuthException extends Error {
  constructor(
    readonly code: AuthExceptionCode,
    message: string,
  ) {
    super(message);
    this.name = 'AuthException';
  }
}
