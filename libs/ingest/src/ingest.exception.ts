/**
 * Why a whole request was refused. Each code has one HTTP status, which the API's
 * exception filter applies; the message names the field at fault.
 */
export enum IngestExceptionCode {
  /** 400: the body is not the format the endpoint takes, so no point in it can be trusted. */
  MALFORMED_BODY = 'MALFORMED_BODY',
  /** 413: the body, its decompressed form or its point count is over a limit. */
  TOO_LARGE = 'TOO_LARGE',
  /** 400: a request parameter (the Influx `precision`) has a value the endpoint does not know. */
  BAD_PARAMETER = 'BAD_PARAMETER',
}

/**
 * A request that cannot be decoded at all. A bad point never raises this: it goes to
 * `DecodeResult.rejected` and its neighbours are still accepted.
 */
export class IngestException extends Error {
  constructor(
    readonly code: IngestExceptionCode,
    message: string,
  ) {
    super(message);
    this.name = 'IngestException';
  }
}
