import { type TenantId } from './tenant-id';

/** A scored point as written: one row of `points`. */
export interface PointRecord {
  readonly tenantId: TenantId;
  readonly series: string;
  /** Epoch milliseconds, an integer. */
  readonly ts: number;
  readonly value: number;
  /** The ensemble's score, stored as Float32. */
  readonly score: number;
  /** Per-point markers (bits), 0..255. */
  readonly flags: number;
  /** The tenant's point retention when the point was written, 1..65535 days. */
  readonly retentionDays: number;
}

/** A point as read back. */
export interface StoredPoint {
  readonly ts: number;
  readonly value: number;
  readonly score: number;
  readonly flags: number;
}

/** A point of a series' window, or a bucket of them as its earliest time and mean value. */
export interface WindowSample {
  /** Epoch milliseconds. */
  readonly ts: number;
  readonly value: number;
}

/** The points of one time bucket, summarised so that spikes and dips survive downsampling. */
export interface PointBucket {
  /** Start of the bucket, epoch milliseconds; the bucket is [ts, ts + bucketMs). */
  readonly ts: number;
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly avg: number;
  readonly maxScore: number;
  /** Bitwise OR of the points' flags. */
  readonly flags: number;
}

/** A series over a time range: every point when there are few enough, else buckets. */
export type PointRange =
  | { readonly resolution: 'raw'; readonly points: readonly StoredPoint[] }
  | { readonly resolution: 'bucketed'; readonly bucketMs: number; readonly buckets: readonly PointBucket[] };
