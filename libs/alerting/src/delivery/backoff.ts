/** How long to wait before the next attempt: exponential, capped, with full jitter. */
export interface BackoffPolicy {
  /** The ceiling of the first retry's wait (default 1000 ms). */
  readonly baseMs: number;
  /** Each retry's ceiling is this many times the previous one's (default 2). */
  readonly factor: number;
  /** No ceiling above this (default 5 minutes). */
  readonly capMs: number;
  /** A receiver's Retry-After is honoured up to this (default 1 hour): a misconfigured one cannot park a delivery for ever. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  baseMs: 1000,
  factor: 2,
  capMs: 5 * 60_000,
  maxRetryAfterMs: 60 * 60_000,
};

/**
 * The wait after failed attempt number `attempt` (1 for the first): a uniformly random
 * duration in [0, min(cap, base * factor^(attempt - 1))). Full jitter rather than a fixed
 * ladder because a receiver that was down for everyone (a Slack outage) would otherwise
 * be hit by every retry of every tenant in the same instant when it comes back.
 * `retryAfterMs`, when the receiver said it, is the least wait.
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number,
  retryAfterMs?: number,
): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * policy.factor ** (attempt - 1));
  const jittered = Math.floor(random() * ceiling);
  if (retryAfterMs === undefined || !(retryAfterMs > 0)) return jittered;
  return Math.max(jittered, Math.min(Math.ceil(retryAfterMs), policy.maxRetryAfterMs));
}

/**
 * A seeded generator of numbers in [0, 1) (mulberry32): retries that tests can predict
 * exactly, and a jitter that differs between processes when seeded from the clock.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
