/** What went wrong in the storage layer, for callers that branch (retry, DLQ, HTTP status). */
export enum StorageExceptionCode {
  /** A tenant id that is not one: a caller bug, never retried. */
  INVALID_TENANT_ID = 'INVALID_TENANT_ID',
  /** A deduplication token with characters it may not hold: a caller bug. */
  INVALID_DEDUP_TOKEN = 'INVALID_DEDUP_TOKEN',
  /** A row that would be stored wrongly (NaN, a fractional timestamp, ...): a caller bug. */
  INVALID_RECORD = 'INVALID_RECORD',
  /** Query arguments out of range (an empty time range, a limit of 0, ...). */
  INVALID_QUERY = 'INVALID_QUERY',
  /** The engine could not be opened or the server did not answer. */
  CONNECTION_FAILED = 'CONNECTION_FAILED',
  /** A numbered migration is malformed, changed after it was applied, or failed. */
  MIGRATION_FAILED = 'MIGRATION_FAILED',
  /** ClickHouse refused or failed a write; retrying with the same dedup token is safe. */
  WRITE_FAILED = 'WRITE_FAILED',
  /** ClickHouse refused or failed a read. */
  READ_FAILED = 'READ_FAILED',
}

/** Every error the storage layer throws: a code to branch on and a message naming what failed. */
export class StorageException extends Error {
  constructor(
    readonly code: StorageExceptionCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageException';
  }
}

/** The message of anything thrown, for wrapping it in a StorageException that names the operation. */
export function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
