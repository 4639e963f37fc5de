export enum PointQueueExceptionCode {
  /** A partition number outside 0..partitions-1. */
  UNKNOWN_PARTITION = 'UNKNOWN_PARTITION',
  /** A message larger than a whole partition may hold: it could never be admitted. */
  MESSAGE_TOO_LARGE = 'MESSAGE_TOO_LARGE',
  /** A commit of an offset the partition never held. */
  OFFSET_OUT_OF_RANGE = 'OFFSET_OUT_OF_RANGE',
  /** A consumer that a newer one over the same log replaced (as after a crash or rebalance). */
  FENCED = 'FENCED',
  /** `run` on a consumer that already ran. */
  ALREADY_RUNNING = 'ALREADY_RUNNING',
  /** `commit` on a consumer that never ran: it owns no position to commit. */
  NOT_RUNNING = 'NOT_RUNNING',
}

/** Every error of the point queue: a code to branch on and a message naming the partition and offset. */
export class PointQueueException extends Error {
  constructor(
    readonly code: PointQueueExceptionCode,
    message: string,
  ) {
    super(message);
    this.name = 'PointQueueException';
  }
}
