import { type SeriesIdentity } from './point';
import { RecentCache } from './recent.cache';

function identity(series: string): SeriesIdentity {
  return { series, metric: series, labels: {} };
}

describe('RecentCache', () => {
  it('keeps what is in use and at most two generations of entries', () => {
    const cache = new RecentCache<SeriesIdentity>(2);
    cache.set('a', identity('a'));
    cache.set('b', identity('b'));
    cache.set('c', identity('c')); // a and b become the previous generation
    expect(cache.get('a')?.series).toBe('a'); // moved to the current one, with c
    cache.set('d', identity('d')); // the current (c, a) becomes previous; b is dropped
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.series).toBe('a');
    expect(cache.get('c')?.series).toBe('c');
    expect(cache.size).toBeLessThanOrEqual(4);
  });

  it('refuses a size below 1', () => {
    expect(() => new RecentCache<SeriesIdentity>(0)).toThrow(/maxEntries must be a positive integer, got 0/);
  });
});
