import { type TenantId } from './tenant-id';

/** An anomaly as written: one row of `anomalies`. */
export interface AnomalyRecord {
  readonly tenantId: TenantId;
  /** Derived from what the anomaly is, so that a replay writes the same id again. */
  readonly id: string;
  readonly series: string;
  /** Epoch milliseconds of the point judged anomalous. */
  readonly ts: number;
  readonly value: number;
  readonly score: number;
  readonly severity: string;
  /** The detectors that flagged it. */
  readonly detectors: readonly string[];
  /** The recent points the detectors saw, oldest first: `ts` and `values` pair up. */
  readonly context: AnomalyContext;
  readonly explanation: string | null;
  /**
   * 0 as detected; higher for a later, enriched version of the same anomaly (with an
   * explanation). Of rows with the same id, the highest revision is the one read.
   */
  readonly revision: number;
  /** Epoch milliseconds at which this revision was made. */
  readonly createdAt: number;
  /** The tenant's anomaly retention when it was written, 1..65535 days. */
  readonly retentionDays: number;
}

export interface AnomalyContext {
  readonly ts: readonly number[];
  readonly values: readonly number[];
}

/** An anomaly as read back. */
export type StoredAnomaly = Omit<AnomalyRecord, 'tenantId' | 'retentionDays'>;

/** What `AnomalyRepository.find` selects; every filter is optional but the limit. */
export interface AnomalyQuery {
  readonly series?: string;
  /** Inclusive, epoch milliseconds. */
  readonly from?: number;
  /** Exclusive, epoch milliseconds. */
  readonly to?: number;
  /** Anomalies scoring at least this, compared at the stored (Float32) precision. */
  readonly minScore?: number;
  readonly limit: number;
}
