/**
 * A token bucket: `rate` tokens a second refill it, up to `capacity`; a request takes as
 * many as it costs, or none and learns how long until it could. Time is passed in (epoch
 * or monotonic milliseconds, only differences matter) so it is pure and testable.
 *
 * Tokens are kept in thousandths (a token-millisecond at a rate of one a second): with
 * integer rates and millisecond clocks every refill is an exact integer, so a wait that
 * `waitMs` announces is exactly enough, with no floating-point drift across refills.
 *
 * A request costing more than the whole bucket could never pass by waiting; it is
 * answered with the wait for a full bucket and will be refused again: the caller must
 * split it (the 429 says so by naming the burst).
 */
export class TokenBucket {
  /** Tokens times 1000. */
  private milli: number;
  private last: number;

  constructor(
    private rate: number,
    private capacity: number,
    now: number,
  ) {
    checkPositive(rate, 'rate');
    checkPositive(capacity, 'capacity');
    this.milli = capacity * 1000;
    this.last = now;
  }

  /** Changes rate and size (a tenant's limits changed); the tokens held stay, capped to the new size. */
  reconfigure(rate: number, capacity: number): void {
    if (rate === this.rate && capacity === this.capacity) return;
    checkPositive(rate, 'rate');
    checkPositive(capacity, 'capacity');
    this.rate = rate;
    this.capacity = capacity;
    this.milli = Math.min(this.milli, capacity * 1000);
  }

  /** Tokens available at `now`, after refilling. */
  available(now: number): number {
    this.refill(now);
    return this.milli / 1000;
  }

  /**
   * Milliseconds until `cost` tokens are there: 0 when they are now. Takes nothing. A
   * cost above the capacity answers the time to a full bucket.
   */
  waitMs(cost: number, now: number): number {
    this.refill(now);
    const missing = Math.min(cost, this.capacity) * 1000 - this.milli;
    return missing <= 0 ? 0 : missing / this.rate;
  }

  /** Takes `cost` tokens if they are all there; true if taken. */
  tryTake(cost: number, now: number): boolean {
    this.refill(now);
    if (cost * 1000 > this.milli) return false;
    this.milli -= cost * 1000;
    return true;
  }

  private refill(now: number): void {
    // A clock that went back (a test, or wall time adjusted) refills nothing rather than draining.
    const elapsed = now - this.last;
    if (elapsed > 0) {
      this.milli = Math.min(this.capacity * 1000, this.milli + elapsed * this.rate);
      this.last = now;
    }
  }
}

function checkPositive(value: number, name: string): void {
  if (!(Number.isFinite(value) && value > 0))
    throw new RangeError(`${name} must be a positive number, got ${value}`);
}
