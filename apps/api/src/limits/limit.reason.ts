/**
 * Why a tenant's input was refused by a limit: the `reason` label of
 * `seismo_limit_rejections_total`, the `limit` field of a 429's body, and what a
 * LimitRejectionListener receives. Exported constants, so that metering can count
 * rejections by the same names without parsing messages.
 */
export const LimitReason = {
  /** Too many ingest requests a second: the whole request is refused (429). */
  REQUESTS_PER_SECOND: 'requests_per_second',
  /** Too many points a second: the whole request is refused (429). */
  POINTS_PER_SECOND: 'points_per_second',
  /** One request holds more points than the bucket can ever hold: split it (413). */
  POINTS_BURST: 'points_burst',
  /** A new series beyond the tenant's series limit: that point is refused, the others flow. */
  MAX_SERIES: 'max_series',
} as const;

export type LimitReason = (typeof LimitReason)[keyof typeof LimitReason];

/** Where a refusal happened: at HTTP ingest, or in the engine (a dead letter). */
export type LimitStage = 'ingest' | 'engine';

/**
 * Told of every refusal: `count` is points for the point and series limits, 1 for a
 * request refused by the request rate (its points are `points`). The metrics are one
 * listener; usage metering can be another.
 */
export interface LimitRejectionListener {
  rejected(tenant: string, reason: LimitReason, stage: LimitStage, count: number): void;
}
