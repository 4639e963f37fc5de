/** Bits of a stored point's `flags` (a UInt8): markers a chart can show without a second query. */
export enum PointFlag {
  /** The point scored at or above the anomaly threshold; an anomaly row exists for it. */
  ANOMALY = 1,
}
