/**
 * What the LLM is shown of a series besides the anomalous point: its recent window, cut
 * down to a few dozen numbers, and statistics of what is usual for it. Everything here is
 * computed from the points before the anomaly (inclusive) handed in, nothing else.
 */

/** A point of the window; a bucket of stored points is passed as its average. */
export interface WindowPoint {
  /** Epoch milliseconds. */
  readonly ts: number;
  readonly value: number;
}

export interface Baseline {
  /** Points the statistics were computed over (the anomalous one left out). */
  readonly points: number;
  readonly median: number;
  /** Median absolute deviation from the median, unscaled. */
  readonly mad: number;
  readonly min: number;
  readonly max: number;
  /**
   * Median per UTC hour of day (24 entries, null where the window has no point at that
   * hour), when the window spans at least two days; absent otherwise.
   */
  readonly hourly?: ReadonlyArray<number | null>;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * How far back the window triage shows reaches, and in how many buckets of equal time it
 * is read (the first point of each): five minutes each, so a series sampled less often
 * shows as its points.
 */
export const TRIAGE_WINDOW_MS = 7 * DAY_MS;
export const TRIAGE_WINDOW_BUCKETS = 2016;

/**
 * The triage window of `points` (in time order) as the alert path reads it from stored
 * points (PointRepository.window): of those in [at - spanMs, at), the first of each of
 * `buckets` buckets of equal time, then the one at `at`. Points after `at` are left out.
 */
export function bucketedWindow(
  points: readonly WindowPoint[],
  at: number,
  spanMs: number = TRIAGE_WINDOW_MS,
  buckets: number = TRIAGE_WINDOW_BUCKETS,
): WindowPoint[] {
  const from = at - spanMs;
  const bucketMs = Math.ceil(spanMs / buckets);
  const out: WindowPoint[] = [];
  let key: number | undefined;
  for (const p of points) {
    if (p.ts < from || p.ts > at) continue;
    const k = p.ts === at ? buckets : Math.floor((p.ts - from) / bucketMs);
    if (k !== key) out.push({ ts: p.ts, value: p.value });
    key = k;
  }
  return out;
}

export function baselineOf(window: readonly WindowPoint[]): Baseline | undefined {
  const before = window.slice(0, -1);
  if (before.length === 0) return undefined;
  const values = before.map((p) => p.value);
  const center = median(values);
  const spread = median(values.map((v) => Math.abs(v - center)));
  const span = before[before.length - 1].ts - before[0].ts;
  return {
    points: before.length,
    median: center,
    mad: spread,
    min: Math.min(...values),
    max: Math.max(...values),
    ...(span >= 2 * DAY_MS ? { hourly: hourlyProfile(before) } : {}),
  };
}

function hourlyProfile(points: readonly WindowPoint[]): Array<number | null> {
  const byHour: number[][] = Array.from({ length: 24 }, () => []);
  for (const p of points) byHour[Math.floor((p.ts % DAY_MS) / HOUR_MS)].push(p.value);
  return byHour.map((values) => (values.length > 0 ? median(values) : null));
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * At most `max` points: the window itself when it is that short, else `max - 1` buckets
 * of equal count (each its first time and mean value) and the last point exactly, so the
 * anomalous point is never averaged away.
 */
export function downsample(window: readonly WindowPoint[], max: number): WindowPoint[] {
  if (window.length <= max) return [...window];
  const last = window[window.length - 1];
  const rest = window.slice(0, -1);
  const buckets = max - 1;
  const out: WindowPoint[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * rest.length) / buckets);
    const to = Math.floor(((b + 1) * rest.length) / buckets);
    if (to <= from) continue;
    let sum = 0;
    for (let i = from; i < to; i++) sum += rest[i].value;
    out.push({ ts: rest[from].ts, value: sum / (to - from) });
  }
  out.push(last);
  return out;
}
