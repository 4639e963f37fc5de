import { type SeriesIdentity } from './point';

/**
 * Identities of series already seen, by the raw metric name and labels they came with: a
 * fleet sends the same few thousand series again and again, and checking names, sorting
 * labels and building the key is most of a point's decoding. Only identities that passed
 * every check are kept, so a hit is exactly what the validator would have answered.
 *
 * Bounded: two generations of at most `maxEntries` each. When the current one is full it
 * becomes the previous one and the old previous is dropped; a hit in the previous one
 * moves to the current. Series in use stay; memory stays within 2 x `maxEntries`.
 */
export class IdentityCache {
  private current = new Map<string, SeriesIdentity>();
  private previous = new Map<string, SeriesIdentity>();

  constructor(private readonly maxEntries = 50_000) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    }
  }

  get(key: string): SeriesIdentity | undefined {
    const hit = this.current.get(key);
    if (hit !== undefined) return hit;
    const old = this.previous.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: string, identity: SeriesIdentity): void {
    if (this.current.size >= this.maxEntries) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, identity);
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}

/**
 * The cache key of a metric name and its labels as given (in their order): every part
 * prefixed by its length, so no two different inputs share a key whatever they contain.
 */
export function rawIdentityKey(metric: string, labels: Readonly<Record<string, string>> | undefined): string {
  let key = `${metric.length}:${metric}`;
  if (labels !== undefined) {
    for (const name in labels) {
      const value = labels[name];
      key += `${name.length}:${name}${value.length}:${value}`;
    }
  }
  return key;
}
