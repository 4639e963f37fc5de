/**
 * What the two SDK providers share: one deadline over a whole call, and how an HTTP
 * failure becomes an LlmError.
 */
import { LlmError, type LlmErrorKind } from '../provider';

/**
 * Runs `call` with a signal that aborts at `timeoutMs` or when `callerSignal` does, and
 * turns either abort into a `timeout` LlmError; any other failure goes through `classify`.
 *
 * The SDKs' own `timeout` only covers the wait for the response headers (openai 6.49,
 * @anthropic-ai/sdk 1.17): a server that sends them and then stalls the body holds the
 * call until a signal fires, if one ever does. The caller's listener is removed when the
 * call ends, so a long-lived signal (the process's stop signal) gathers none, which
 * AbortSignal.any would not promise on Node 20.
 */
export async function withDeadline<T>(
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
  call: (signal: AbortSignal) => Promise<T>,
  classify: (error: unknown) => LlmError,
): Promise<T> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const abort = () => controller.abort();
  if (callerSignal?.aborted) abort();
  else callerSignal?.addEventListener('abort', abort, { once: true });
  try {
    return await call(controller.signal);
  } catch (error) {
    if (timedOut) throw new LlmError('timeout', `no answer within ${timeoutMs} ms`, { cause: error });
    if (callerSignal?.aborted) throw new LlmError('timeout', 'the call was aborted', { cause: error });
    throw classify(error);
  } finally {
    clearTimeout(timer);
    callerSignal?.removeEventListener('abort', abort);
  }
}

/** The error classes both SDKs export under the same names (each its own classes). */
export interface SdkErrors {
  readonly APIConnectionTimeoutError: abstract new (...args: never[]) => Error;
  readonly APIUserAbortError: abstract new (...args: never[]) => Error;
  readonly APIConnectionError: abstract new (...args: never[]) => Error;
  readonly APIError: abstract new (...args: never[]) => Error & { status?: number; headers?: Headers };
}

/** How an SDK's failure becomes an LlmError, for `withDeadline`. */
export function sdkErrorClassifier(sdk: SdkErrors, name: string): (error: unknown) => LlmError {
  return (error) => {
    if (error instanceof LlmError) return error;
    // Subclasses first: a timeout is a connection error, and both (and an abort) are APIErrors.
    if (error instanceof sdk.APIConnectionTimeoutError || error instanceof sdk.APIUserAbortError) {
      return new LlmError('timeout', error.message, { cause: error });
    }
    if (error instanceof sdk.APIConnectionError) {
      return new LlmError('server', `could not reach the server: ${error.message}`, { cause: error });
    }
    if (error instanceof sdk.APIError && typeof error.status === 'number') {
      return httpFailure(error.status, error.headers, error.message, error);
    }
    return new LlmError('client', `the ${name} client failed: ${String(error)}`, { cause: error });
  };
}

/**
 * The LlmError of an HTTP answer with an error status: 429, 408, 5xx (Anthropic's 529 too),
 * other 4xx. The wait the server asked for is kept whatever the status (a 503 may say it too).
 */
export function httpFailure(
  status: number,
  headers: Headers | undefined,
  message: string,
  cause: unknown,
): LlmError {
  const retryAfterMs = retryAfter(headers);
  return new LlmError(statusKind(status), message, {
    status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    cause,
  });
}

function statusKind(status: number): LlmErrorKind {
  if (status === 429) return 'rate_limited';
  if (status === 408) return 'timeout';
  if (status >= 500) return 'server';
  return 'client';
}

/**
 * How long the provider asked to wait: `retry-after-ms` (OpenAI's, not standard), else
 * `retry-after` in seconds or as an HTTP date.
 */
function retryAfter(headers: Headers | undefined, now = Date.now()): number | undefined {
  const millis = Number(headers?.get('retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(millis) && millis >= 0) return Math.round(millis);
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.round(seconds * 1000) : undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
