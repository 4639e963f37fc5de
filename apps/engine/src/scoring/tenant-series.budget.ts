/**
 * How many series one tenant has in this engine process, across every partition it
 * holds, against the tenant's limit: every SeriesScorer of the tenant (one per
 * partition) draws from the same budget, so the limit is the tenant's, not a
 * partition's.
 *
 * Exact within one process. Across several engine processes each counts the series of
 * the partitions it holds, so each one's count is a lower bound of the tenant's total
 * and a tenant spread over N engines could hold up to N times its limit there: the
 * engine's check bounds each process's memory, and the exact user-facing limit is the
 * one ingest applies (one API process sees nearly all of a tenant's series). Counting
 * across processes exactly would need a shared store on the hot path.
 *
 * Series restored from a checkpoint are counted without being checked: they were let
 * in before and must keep flowing even if the limit was lowered since. Which new series
 * a tenant at its limit gets refused depends on the order they arrive in across the
 * partitions held here; a replay after a restart makes the same decisions as long as the
 * process holds the same partitions (the refused points are in the dead letters either way).
 */
export class TenantSeriesBudget {
  private count = 0;

  constructor(private readonly limit: () => number) {}

  get size(): number {
    return this.count;
  }

  /** Counts one new series, or answers why it may not be added (the count then stays). */
  take(): string | undefined {
    const max = this.limit();
    if (this.count >= max) return `the tenant's max_series limit of ${max} series is reached`;
    this.count++;
    return undefined;
  }

  /** Series that arrived without a check (restored from a checkpoint). */
  add(series: number): void {
    this.count += series;
  }

  /** Series this process no longer holds (their partition moved away). */
  release(series: number): void {
    this.count = Math.max(0, this.count - series);
  }
}
