/**
 * What was worked out for keys seen recently: a fleet sends the same few thousand series
 * again and again, so ingest keeps, by key, what it found for a series the first time
 * (its checked identity, its partition) rather than work it out for every point.
 *
 * Bounded: two generations of at most `maxEntries` each. When the current one is full it
 * becomes the previous one and the old previous is dropped; a hit in the previous one
 * moves to the current. Series in use stay; memory stays within 2 x `maxEntries`.
 */
export class RecentCache<V> {
  private current = new Map<string, V>();
  private previous = new Map<string, V>();

  constructor(private readonly maxEntries = 50_000) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    }
  }

  get(key: string): V | undefined {
    const hit = this.current.get(key);
    if (hit !== undefined) return hit;
    const old = this.previous.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: string, value: V): void {
    if (this.current.size >= this.maxEntries) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}
