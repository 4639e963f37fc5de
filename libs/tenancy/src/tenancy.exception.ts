/** What went wrong in tenancy, for callers that branch (HTTP status, DLQ, stopping at boot). */
export enum TenancyExceptionCode {
  /** 400: a field of a new tenant is out of range; `field` names it. */
  INVALID_TENANT = 'INVALID_TENANT',
  /** 404 over HTTP; for the engine, a message addressed to a tenant that does not exist. */
  UNKNOWN_TENANT = 'UNKNOWN_TENANT',
  /** At boot: the admin token kept in the data directory cannot be read, written or used. */
  ADMIN_TOKEN_UNUSABLE = 'ADMIN_TOKEN_UNUSABLE',
}

/** Every error tenancy throws itself (storage failures stay StorageException): a code and a message. */
export class TenancyException extends Error {
  constructor(
    readonly code: TenancyExceptionCode,
    message: string,
    /** The input field at fault, for INVALID_TENANT (`name`, `pointsDays`, ...). */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TenancyException';
  }
}
