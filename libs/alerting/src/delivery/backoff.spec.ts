import { backoffDelay, DEFAULT_BACKOFF, seededRandom } from './backoff';

describe('backoffDelay', () => {
  it('doubles its ceiling from 1 s and stops at 5 minutes', () => {
    const highest = () => 1 - Number.EPSILON;
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20].map((n) =>
      backoffDelay(DEFAULT_BACKOFF, n, highest),
    );
    expect(ceilings).toEqual([
      999, 1999, 3999, 7999, 15_999, 31_999, 63_999, 127_999, 255_999, 299_999, 299_999,
    ]);
    expect(backoffDelay(DEFAULT_BACKOFF, 3, () => 0)).toBe(0);
  });

  it('jitters over the whole range below the ceiling (full jitter)', () => {
    const random = seededRandom(1);
    for (const attempt of [1, 4, 12]) {
      const ceiling = Math.min(300_000, 1000 * 2 ** (attempt - 1));
      const delays = Array.from({ length: 2000 }, () => backoffDelay(DEFAULT_BACKOFF, attempt, random));
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...delays)).toBeLessThan(ceiling);
      // Spread over the range, not bunched at one end: both tenths are reached.
      expect(delays.some((d) => d < ceiling / 10)).toBe(true);
      expect(delays.some((d) => d > (ceiling * 9) / 10)).toBe(true);
    }
  });

  it("waits at least the receiver's Retry-After, up to its own bound", () => {
    const policy = { ...DEFAULT_BACKOFF, maxRetryAfterMs: 60_000 };
    expect(backoffDelay(policy, 1, () => 0.5, 30_000)).toBe(30_000);
    expect(backoffDelay(policy, 10, () => 0.5, 30_000)).toBe(150_000);
    expect(backoffDelay(policy, 1, () => 0.5, 3_600_000)).toBe(60_000);
    expect(backoffDelay(policy, 1, () => 0.5, 0)).toBe(500);
    expect(backoffDelay(policy, 1, () => 0.5, Number.NaN)).toBe(500);
  });
});

describe('seededRandom', () => {
  it('gives the same numbers in [0, 1) for the same seed, others for another', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const first = Array.from({ length: 100 }, () => a());
    expect(Array.from({ length: 100 }, () => b())).toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(first).size).toBe(100);
    const c = seededRandom(43);
    expect(Array.from({ length: 100 }, () => c())).not.toEqual(first);
  });
});
