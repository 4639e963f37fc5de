/**
 * A circuit breaker over the LLM provider: after `failureThreshold` consecutive attempts
 * that failed the way an outage fails (timeout, 5xx, 429), no attempt starts for
 * `cooldownMs`; then one probe attempt decides: an answer closes the circuit, another
 * such failure opens it again for a new cooldown.
 */

export type BreakerState = 'closed' | 'open' | 'half_open';

/**
 * How an attempt went, as the breaker sees it:
 * - `up`: the provider answered (a verdict, or a malformed, refused or rejected request: it is reachable);
 * - `down`: it timed out, failed with a 5xx or was rate limited;
 * - `unknown`: nothing learned (the attempt was stopped, or `run` failed without an LlmError).
 */
export type AttemptHealth = 'up' | 'down' | 'unknown';

export interface CircuitBreakerOptions {
  /** Consecutive `down` attempts that open the circuit (default 5). */
  readonly failureThreshold?: number;
  /** How long the circuit stays open before one probe is let through (default 30 000 ms). */
  readonly cooldownMs?: number;
  /** Epoch milliseconds (default Date.now). */
  readonly clock?: () => number;
}

/** Leave to start one attempt; handed back with how it went. */
export interface BreakerPermit {
  readonly probe: boolean;
  /** The breaker's period the permit was given in: the result of an attempt from an earlier period is ignored. */
  readonly period: number;
}

export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  private readonly clock: () => number;
  private current: BreakerState = 'closed';
  /** Incremented at each change of state. */
  private period = 0;
  private failures = 0;
  private openedAt = 0;
  private probing = false;

  constructor(options: CircuitBreakerOptions = {}) {
    this.failureThreshold = options.failureThreshold ?? 5;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.clock = options.clock ?? Date.now;
    if (!Number.isInteger(this.failureThreshold) || this.failureThreshold < 1) {
      throw new RangeError(
        `breaker failureThreshold must be an integer of at least 1, got ${this.failureThreshold}`,
      );
    }
    if (!Number.isFinite(this.cooldownMs) || this.cooldownMs < 0) {
      throw new RangeError(
        `breaker cooldownMs must be a finite number of at least 0, got ${this.cooldownMs}`,
      );
    }
  }

  /** The state now: an open circuit whose cooldown is over reads as half-open. */
  state(): BreakerState {
    if (this.current === 'open' && this.clock() - this.openedAt >= this.cooldownMs) {
      this.enter('half_open');
    }
    return this.current;
  }

  /**
   * Leave to start an attempt, or undefined: never while open, and while half-open only
   * when no probe is out (the one given is the probe).
   */
  acquire(): BreakerPermit | undefined {
    const state = this.state();
    if (state === 'open') return undefined;
    if (state === 'half_open') {
      if (this.probing) return undefined;
      this.probing = true;
      return { probe: true, period: this.period };
    }
    return { probe: false, period: this.period };
  }

  /**
   * How the permit's attempt went. Answers the state this result moved the circuit to
   * (`open` when it opened it, `closed` when a probe closed it), or undefined when it did
   * not change it: a permit from an earlier period, say, is ignored.
   */
  release(permit: BreakerPermit, health: AttemptHealth): BreakerState | undefined {
    if (permit.period !== this.period) return undefined;
    if (permit.probe) {
      this.probing = false;
      if (health === 'up') this.enter('closed');
      else if (health === 'down') this.open();
      else return undefined;
      return this.current;
    }
    if (health === 'up') this.failures = 0;
    else if (health === 'down' && ++this.failures >= this.failureThreshold) {
      this.open();
      return this.current;
    }
    return undefined;
  }

  private open(): void {
    this.openedAt = this.clock();
    this.enter('open');
  }

  private enter(state: BreakerState): void {
    this.current = state;
    this.period += 1;
    this.failures = 0;
    this.probing = false;
  }
}
