import { DEFAULT_INGEST_LIMITS, ingestLimits } from './ingest-limits';

describe('ingestLimits', () => {
  it('is the defaults when nothing is overridden', () => {
    expect(ingestLimits()).toEqual(DEFAULT_INGEST_LIMITS);
    expect(DEFAULT_INGEST_LIMITS).toMatchObject({ maxPastMs: 7 * 86_400_000, maxFutureMs: 600_000 });
  });

  it('applies overrides over the defaults, and freezes the result', () => {
    const limits = ingestLimits({ maxLabels: 5, maxFutureMs: 0 });
    expect(limits).toEqual({ ...DEFAULT_INGEST_LIMITS, maxLabels: 5, maxFutureMs: 0 });
    expect(Object.isFrozen(limits)).toBe(true);
  });

  it.each([
    [{ maxLabels: 0 }, 'maxLabels: must be a positive integer'],
    [{ maxMetricNameLength: 1.5 }, 'maxMetricNameLength: must be a positive integer'],
    [{ maxBodyBytes: NaN }, 'maxBodyBytes: must be a positive integer'],
    [{ maxPastMs: -1 }, 'maxPastMs: must be a whole number of milliseconds, 0 or more'],
    [
      { maxFutureMs: '10m' as unknown as number },
      'maxFutureMs: must be a whole number of milliseconds, 0 or more',
    ],
    [{ maxLables: 3 } as never, 'unknown limit maxLables'],
  ])('refuses %j, naming the limit', (overrides, problem) => {
    expect(() => ingestLimits(overrides)).toThrow(`invalid ingest limits: ${problem}`);
  });
});
