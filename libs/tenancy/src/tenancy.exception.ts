/** What went wrong in tenancy, for callers that branch (HTTP status, DLQ, stopping at boot). */
export enum TenancyExceptionCode {
  /** 400: a field of a new or changed tenant is out of range; `field` names it. */
  INVALID_TENANT = 'INVALID_TENANT',
  /** 404 over HTTP; for the engine, a message addressed to a tenant that does not exist. */
  UNKNOWN_TENANT = 'UNKNOWN_TENANT',
  /** At boot: the admin token kept in the data directory cannot be read, written or used. */
  ADMIN_TOKEN_UNUSABLE = 'ADMIN_TOKEN_UNUSABLE',
  /** 400: a field of a member (email, role) is not valid; `field` names it. */
  INVALID_MEMBER = 'INVALID_MEMBER',
  /** 404: no such member in the caller's tenant (another tenant's members do not exist for it). */
  UNKNOWN_MEMBER = 'UNKNOWN_MEMBER',
  /** 409: the tenant already has a member with this email. */
  MEMBER_EXISTS = 'MEMBER_EXISTS',
  /** 400: a field of a new API key (name, scopes, member_id) is not valid; `field` names it. */
  INVALID_API_KEY = 'INVALID_API_KEY',
  /** 404: no such active key in the caller's tenant. */
  UNKNOWN_API_KEY = 'UNKNOWN_API_KEY',
  /** 409: the change would leave a tenant that has admin members without any. */
  LAST_ADMIN = 'LAST_ADMIN',
  /** 403: the key is valid but lacks the scope, or its member the role, the action needs. */
  FORBIDDEN = 'FORBIDDEN',
}

/** Every error tenancy throws itself (storage failures stay StorageException): a code and a message. */
export class TenancyException extends Error {
  constructor(
    readonly code: TenancyExceptionCode,
    message: string,
    /** The input field at fault, for the INVALID_* codes (`name`, `pointsDays`, `email`, ...). */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TenancyException';
  }
}
