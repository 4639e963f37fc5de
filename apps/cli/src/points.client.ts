import { setTimeout as sleep } from 'node:timers/promises';
import { ReplayError } from './replay.error';

/** One point as `POST /v1/points` takes it. */
export interface PointBody {
  readonly series: string;
  /** Epoch milliseconds. */
  readonly ts: number;
  readonly value: number;
}

export interface PointsAnswer {
  readonly accepted: number;
  /** `index` is the point's position in the batch sent. */
  readonly rejected: ReadonlyArray<{ readonly index: number; readonly error: string }>;
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * A server restarting or shedding load (429, 5xx, a refused connection) is usually back
 * within seconds: doubling from half a second, eight attempts wait about a minute in all.
 */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, firstDelayMs: 500, maxDelayMs: 16_000 };

/**
 * Sends batches of points to a Seismo server's `POST /v1/points` with a tenant key. What
 * may pass (429, 5xx, no connection) is retried with backoff, honouring `Retry-After`;
 * what will not (a 4xx: wrong key, malformed request) stops at once with a `ReplayError`
 * naming the status and the server's message. The ingest answers 202 only once the
 * points are queued, so a retried batch was not taken the first time.
 */
export class PointsClient {
  private readonly endpoint: string;

  constructor(
    baseUrl: string,
    private readonly key: string,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    /** Told of each retry, so a user watching sees why the replay pauses. */
    private readonly onRetry: (problem: string, delayMs: number) => void = () => undefined,
  ) {
    this.endpoint = new URL('/v1/points', baseUrl).href;
  }

  async send(points: readonly PointBody[], signal?: AbortSignal): Promise<PointsAnswer> {
    const body = JSON.stringify({ points });
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(this.endpoint, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.key}`, 'content-type': 'application/json' },
          body,
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const problem = `cannot reach ${this.endpoint}: ${networkReason(error)}`;
        await this.pause(problem, attempt, undefined, signal);
        continue;
      }
      if (response.status === 202 || response.status === 200) return (await response.json()) as PointsAnswer;
      const problem = `${this.endpoint} answered ${response.status} ${response.statusText}: ${await serverError(response)}`;
      if (response.status !== 429 && response.status < 500) {
        const hint = response.status === 401 ? ' (check --key or SEISMO_API_KEY)' : '';
        throw new ReplayError(`${problem}${hint}`);
      }
      await this.pause(problem, attempt, response.headers.get('retry-after'), signal);
    }
  }

  private async pause(
    problem: string,
    attempt: number,
    retryAfter: string | null | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (attempt >= this.retry.attempts)
      throw new ReplayError(`${problem}; gave up after ${attempt} attempts`);
    const backoff = Math.min(this.retry.maxDelayMs, this.retry.firstDelayMs * 2 ** (attempt - 1));
    const asked = Number(retryAfter);
    const delay =
      retryAfter && Number.isFinite(asked) && asked >= 0
        ? Math.min(asked * 1000, this.retry.maxDelayMs)
        : backoff;
    this.onRetry(problem, delay);
    await sleep(delay, undefined, signal ? { signal } : {});
  }
}

/** The server's own words: Seismo answers `{error}`; anything else is shown as text, cut short. */
async function serverError(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const error = (JSON.parse(text) as { error?: unknown }).error;
    if (error !== undefined) return typeof error === 'string' ? error : JSON.stringify(error);
  } catch {
    // Not JSON: a proxy's page, say.
  }
  const shown = text.trim();
  return shown === '' ? '(no message)' : shown.length > 200 ? `${shown.slice(0, 197)}...` : shown;
}

/** fetch reports a network failure as "fetch failed", with the reason in its cause. */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
