import {
  type AnomalyRecord,
  type PointRecord,
  type SeriesHourRecord,
  type UsageRecord,
} from '@seismo/storage';

/** A message the engine could not take, and why: what goes to the dead-letter queue. */
export interface DeadLetter {
  readonly partition: number;
  readonly offset: number;
  readonly reason: string;
  /** The message as it came, for the dead-letter topic. */
  readonly value: Uint8Array;
}

/** What one queue batch became: the rows for the sinks, and the messages refused. */
export interface ProcessedBatch {
  readonly partition: number;
  /** The batch's offset range, inclusive: the sinks' dedup tokens derive from it. */
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly points: readonly PointRecord[];
  readonly anomalies: readonly AnomalyRecord[];
  /** The batch's metering counts, one row per tenant: written by the runner's UsageCommitter before the commit. */
  readonly usage: readonly UsageRecord[];
  readonly deadLetters: readonly DeadLetter[];
  /** Hourly summaries of zero-retention tenants' points (their only trace); absent: none. */
  readonly hourly?: readonly SeriesHourRecord[];
}
