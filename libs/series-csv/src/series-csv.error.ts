export enum SeriesCsvErrorCode {
  MISSING_HEADER = 'MISSING_HEADER',
  BAD_HEADER = 'BAD_HEADER',
  FIELD_COUNT = 'FIELD_COUNT',
  EMPTY_FIELD = 'EMPTY_FIELD',
  BAD_TIMESTAMP = 'BAD_TIMESTAMP',
  BAD_VALUE = 'BAD_VALUE',
  BAD_QUOTING = 'BAD_QUOTING',
  ROW_TOO_LONG = 'ROW_TOO_LONG',
}

export type SeriesCsvField = 'timestamp' | 'value';

/**
 * A series CSV the reader cannot accept. The message starts with `source:line:`, the
 * way compilers point at a file, so editors and terminals can jump to it; `field` is
 * set when one field is at fault.
 */
export class SeriesCsvError extends Error {
  constructor(
    readonly code: SeriesCsvErrorCode,
    readonly source: string,
    readonly line: number,
    readonly field: SeriesCsvField | undefined,
    detail: string,
  ) {
    super(`${source}:${line}: ${detail}`);
    this.name = 'SeriesCsvError';
  }
}
