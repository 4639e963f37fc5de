let lastVersion = 0;

/**
 * A version for a row of a ReplacingMergeTree written as "a change is a new row": the
 * clock in epoch microseconds, so the latest write wins across processes, and strictly
 * increasing within this one, so two writes in the same millisecond keep their order.
 * Exact as a double until the year 2255.
 */
export function nextRowVersion(): number {
  lastVersion = Math.max(Date.now() * 1000, lastVersion + 1);
  return lastVersion;
}
