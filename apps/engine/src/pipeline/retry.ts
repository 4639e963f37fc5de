import { setTimeout as sleep } from 'node:timers/promises';
import { describeCause } from '@seismo/storage';

export interface RetryOptions {
  /** Aborted when the engine stops: a failing attempt is then given up, not retried. */
  readonly signal: AbortSignal;
  /** The first pause; each next one doubles, up to `maxDelayMs`. */
  readonly delayMs: number;
  readonly maxDelayMs: number;
  readonly logger: { error(message: string): void };
  /** Errors no retry can mend, thrown as they are. */
  readonly final?: (error: unknown) => boolean;
}

/** The options' retry delays with their defaults (200 ms doubling to 10 s), checked. */
export function retryDelays(options: {
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
}): Pick<RetryOptions, 'delayMs' | 'maxDelayMs'> {
  const delayMs = options.retryDelayMs ?? 200;
  const maxDelayMs = options.maxRetryDelayMs ?? 10_000;
  if (!(delayMs > 0) || !(maxDelayMs >= delayMs)) {
    throw new RangeError(
      `retry delays must satisfy 0 < retryDelayMs <= maxRetryDelayMs, got ${delayMs} and ${maxDelayMs}`,
    );
  }
  return { delayMs, maxDelayMs };
}

/** Thrown by `retryUntilStopped` when the engine stopped before an attempt succeeded. */
export class RetryAbandoned extends Error {
  constructor(what: string, cause: unknown) {
    super(`${what} abandoned: the engine stopped`, { cause });
  }
}

/**
 * Runs `attempt` until it succeeds, pausing between tries (doubling up to the maximum),
 * and says so in the log at every failure. Once `signal` is aborted, a failure (or a
 * pause cut short) gives up with a RetryAbandoned carrying the last error.
 */
export async function retryUntilStopped<T>(
  what: string,
  attempt: () => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const { signal, logger, final } = options;
  let delay = options.delayMs;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (final?.(error)) throw error;
      if (!signal.aborted) {
        logger.error(`${what} failed (attempt ${n}), retrying in ${delay} ms: ${describeCause(error)}`);
        await sleep(delay, undefined, { signal }).catch(() => undefined);
      }
      if (signal.aborted) throw new RetryAbandoned(what, error);
      delay = Math.min(delay * 2, options.maxDelayMs);
    }
  }
}
