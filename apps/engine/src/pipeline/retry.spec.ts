import { RetryAbandoned, retryDelays, retryUntilStopped } from './retry';

/** An attempt that fails its first `failures` calls, then answers `answer`. */
function failing(failures: number, answer = 'done') {
  let calls = 0;
  const attempt = jest.fn(async () => {
    if (++calls <= failures) throw new Error(`down (${calls})`);
    return answer;
  });
  return attempt;
}

describe('retryUntilStopped', () => {
  const logger = { error: jest.fn() };
  beforeEach(() => logger.error.mockClear());

  it('tries again with doubling pauses up to the maximum, and says so at every failure', async () => {
    const attempt = failing(4);
    const signal = new AbortController().signal;
    await expect(
      retryUntilStopped('writing', attempt, { signal, delayMs: 1, maxDelayMs: 4, logger }),
    ).resolves.toBe('done');
    expect(attempt).toHaveBeenCalledTimes(5);
    expect(logger.error.mock.calls.map(([message]) => message)).toEqual([
      'writing failed (attempt 1), retrying in 1 ms: down (1)',
      'writing failed (attempt 2), retrying in 2 ms: down (2)',
      'writing failed (attempt 3), retrying in 4 ms: down (3)',
      'writing failed (attempt 4), retrying in 4 ms: down (4)',
    ]);
  });

  it('throws an error the caller calls final at once, untried again and unlogged', async () => {
    const attempt = failing(1);
    const signal = new AbortController().signal;
    await expect(
      retryUntilStopped('committing', attempt, {
        signal,
        delayMs: 1,
        maxDelayMs: 1,
        logger,
        final: () => true,
      }),
    ).rejects.toThrow('down (1)');
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('gives up once stopped: a pause is cut short, and the last error is the cause', async () => {
    const stopping = new AbortController();
    const attempt = failing(Infinity);
    const retried = retryUntilStopped('writing', attempt, {
      signal: stopping.signal,
      delayMs: 60_000,
      maxDelayMs: 60_000,
      logger,
    });
    await new Promise((resolve) => setImmediate(resolve));
    stopping.abort();
    const given = await retried.catch((error: unknown) => error);
    expect(given).toBeInstanceOf(RetryAbandoned);
    expect(given).toMatchObject({ message: 'writing abandoned: the engine stopped' });
    expect((given as Error).cause).toMatchObject({ message: 'down (1)' });
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('does not retry a failure that comes after the stop', async () => {
    const stopping = new AbortController();
    stopping.abort();
    const attempt = failing(1);
    await expect(
      retryUntilStopped('writing', attempt, { signal: stopping.signal, delayMs: 1, maxDelayMs: 1, logger }),
    ).rejects.toBeInstanceOf(RetryAbandoned);
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(logger.error).not.toHaveBeenCalled();
  });
});

describe('retryDelays', () => {
  it('defaults to 200 ms doubling to 10 s', () => {
    expect(retryDelays({})).toEqual({ delayMs: 200, maxDelayMs: 10_000 });
    expect(retryDelays({ retryDelayMs: 5, maxRetryDelayMs: 50 })).toEqual({ delayMs: 5, maxDelayMs: 50 });
  });

  it('refuses a first pause that is not positive or a maximum below it', () => {
    expect(() => retryDelays({ retryDelayMs: 0 })).toThrow(/0 < retryDelayMs <= maxRetryDelayMs, got 0 and/);
    expect(() => retryDelays({ retryDelayMs: 100, maxRetryDelayMs: 50 })).toThrow(RangeError);
    expect(() => retryDelays({ retryDelayMs: Number.NaN })).toThrow(RangeError);
  });
});
