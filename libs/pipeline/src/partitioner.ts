/**
 * Which partition a series lives on. Every point of a series must land on the same
 * partition, so that one engine process owns its detector state and sees its points in
 * order; the choice must also stay the same across processes, restarts and versions, or
 * a series would move and lose its state. FNV-1a (32 bit) over the UTF-8 bytes of
 * `tenant/series` is simple, stable by definition, and spreads keys evenly enough.
 */
export function partitionOf(tenant: string, series: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  }
  return fnv1a(`${tenant}/${series}`) % partitions;
}

/**
 * FNV-1a over the UTF-8 bytes of `text`, encoded on the fly rather than into a buffer: it
 * runs for every point ingested. An unpaired surrogate counts as U+FFFD, as TextEncoder
 * encodes it, so the hash is the one of the bytes TextEncoder would give.
 */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      hash = Math.imul(hash ^ c, 0x01000193);
      continue;
    }
    if (c < 0x800) {
      hash = Math.imul(hash ^ (0xc0 | (c >> 6)), 0x01000193);
      hash = Math.imul(hash ^ (0x80 | (c & 0x3f)), 0x01000193);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        hash = Math.imul(hash ^ (0xf0 | (c >> 18)), 0x01000193);
        hash = Math.imul(hash ^ (0x80 | ((c >> 12) & 0x3f)), 0x01000193);
        hash = Math.imul(hash ^ (0x80 | ((c >> 6) & 0x3f)), 0x01000193);
        hash = Math.imul(hash ^ (0x80 | (c & 0x3f)), 0x01000193);
        continue;
      }
      c = 0xfffd;
    }
    hash = Math.imul(hash ^ (0xe0 | (c >> 12)), 0x01000193);
    hash = Math.imul(hash ^ (0x80 | ((c >> 6) & 0x3f)), 0x01000193);
    hash = Math.imul(hash ^ (0x80 | (c & 0x3f)), 0x01000193);
  }
  return hash >>> 0;
}
