/**
 * A bounded cache whose entries expire: at most `maxEntries` (the least recently used
 * goes first), each answered for `ttlMs` after it was set. A Map keeps insertion order,
 * so moving a used entry to the end (delete, set) makes its first key the least recent:
 * O(1) for every operation.
 */

export interface LruCacheOptions {
  /** Most entries held (default 10 000). */
  readonly maxEntries?: number;
  /** How long an entry answers after it was set (default 1 hour). */
  readonly ttlMs?: number;
  /** Epoch milliseconds (default Date.now). */
  readonly clock?: () => number;
}

interface Held<V> {
  readonly value: V;
  readonly expiresAt: number;
}

export class LruCache<V> {
  readonly maxEntries: number;
  readonly ttlMs: number;
  private readonly clock: () => number;
  private readonly entries = new Map<string, Held<V>>();

  constructor(options: LruCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.ttlMs = options.ttlMs ?? 3_600_000;
    this.clock = options.clock ?? Date.now;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new RangeError(`cache maxEntries must be an integer of at least 1, got ${this.maxEntries}`);
    }
    if (!(this.ttlMs > 0)) throw new RangeError(`cache ttlMs must be a number above 0, got ${this.ttlMs}`);
  }

  /** The value set under `key` if it has not expired; it becomes the most recently used. */
  get(key: string): V | undefined {
    const held = this.entries.get(key);
    if (!held) return undefined;
    this.entries.delete(key);
    if (this.clock() >= held.expiresAt) return undefined;
    this.entries.set(key, held);
    return held.value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.clock() + this.ttlMs });
    if (this.entries.size > this.maxEntries) {
      // Only ever one over: each set adds at most one entry.
      this.entries.delete(this.entries.keys().next().value as string);
    }
  }

  /** Drops every entry whose key matches (a tenant's, when it is erased); answers how many. O(n). */
  deleteWhere(matches: (key: string) => boolean): number {
    let dropped = 0;
    // Deleting the entry just visited is safe while iterating a Map.
    for (const key of this.entries.keys()) {
      if (matches(key)) {
        this.entries.delete(key);
        dropped += 1;
      }
    }
    return dropped;
  }

  /** Entries held, expired ones not yet dropped included. */
  get size(): number {
    return this.entries.size;
  }
}
