import { LruCache } from './lru-cache';

describe('LruCache', () => {
  let now: number;
  const clock = () => now;

  beforeEach(() => {
    now = 0;
  });

  it('holds at most maxEntries, dropping the least recently used', () => {
    const cache = new LruCache<number>({ maxEntries: 2, clock });
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
  });

  it('setting a key again replaces it without growing', () => {
    const cache = new LruCache<number>({ maxEntries: 2, clock });
    cache.set('a', 1);
    cache.set('a', 2);
    cache.set('b', 3);
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBe(2);
  });

  it('an entry answers for ttlMs after it was set, reads do not extend it', () => {
    const cache = new LruCache<string>({ ttlMs: 100, clock });
    cache.set('a', 'x');
    now = 99;
    expect(cache.get('a')).toBe('x');
    now = 100;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('deleteWhere drops the matching keys only', () => {
    const cache = new LruCache<number>({ clock });
    cache.set('t1\u0000a', 1);
    cache.set('t2\u0000a', 2);
    cache.set('t1\u0000b', 3);
    expect(cache.deleteWhere((key) => key.startsWith('t1\u0000'))).toBe(2);
    expect(cache.size).toBe(1);
    expect(cache.get('t2\u0000a')).toBe(2);
  });

  it('refuses a size below 1 and a TTL that is not positive', () => {
    expect(() => new LruCache({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => new LruCache({ ttlMs: 0 })).toThrow(/ttlMs/);
  });
});
