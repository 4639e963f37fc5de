import { type LimitReason } from './limit.reason';

export enum LimitExceptionCode {
  /** 429: a rate limit; `retryAfterSeconds` says when the same request would pass. */
  RATE_LIMITED = 'RATE_LIMITED',
  /** 413: the request alone exceeds a burst; no wait makes it pass, it must be split. */
  BURST_EXCEEDED = 'BURST_EXCEEDED',
}

/** A request refused whole by one of its tenant's limits, named in `limit`. */
export class LimitException extends Error {
  constructor(
    readonly code: LimitExceptionCode,
    readonly limit: LimitReason,
    message: string,
    /** Whole seconds, at least 1: a client that waits this long gets through. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'LimitException';
  }
}
