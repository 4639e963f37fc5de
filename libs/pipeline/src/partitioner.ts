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

const encoder = new TextEncoder();

export function fnv1a(text: string): number {
  const bytes = encoder.encode(text);
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i];
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
