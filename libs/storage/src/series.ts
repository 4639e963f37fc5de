/** What is stored of one series of a tenant. */
export interface SeriesSummary {
  readonly series: string;
  /** Epoch milliseconds of the oldest stored point. */
  readonly firstSeen: number;
  /** Epoch milliseconds of the newest stored point. */
  readonly lastSeen: number;
  readonly points: number;
}
