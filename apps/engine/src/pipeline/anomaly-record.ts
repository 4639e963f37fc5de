import { type AnomalyRecord, type TenantId } from '@seismo/storage';
import { type SeriesContext } from '../scoring/series-scorer';
import { anomalyId } from './anomaly-id';
import { severityOf } from './severity';

/** Points scoring at least this become anomalies unless configured otherwise (SEISMO_ANOMALY_THRESHOLD). */
export const DEFAULT_ANOMALY_THRESHOLD = 0.5;

/** The ensemble is the one detector named until per-member attribution reaches the engine. */
const DETECTORS: readonly string[] = ['ensemble'];

/** A threshold an anomaly must reach, checked once where it is configured. */
export function checkedAnomalyThreshold(threshold: number): number {
  if (!(threshold > 0 && threshold <= 1)) {
    throw new RangeError(`anomalyThreshold must be in (0, 1], got ${threshold}`);
  }
  return threshold;
}

/** A point that scored at least the threshold, with what the engine knows of its series then. */
export interface AnomalousPoint {
  readonly tenantId: TenantId;
  readonly series: string;
  readonly ts: number;
  readonly value: number;
  readonly score: number;
  /** The series' latest points with this one last: SeriesScorer.context right after scoring it. */
  readonly context: SeriesContext;
}

/**
 * The anomaly row the engine writes for an anomalous point: its id derived from the point,
 * its severity graded from the score. Pure, so the engine and a replay of a series
 * (benchmarks/nab/feedback.ts) emit the same anomaly.
 */
export function anomalyRecordOf(
  point: AnomalousPoint,
  createdAt: number,
  retentionDays: number,
): AnomalyRecord {
  return {
    tenantId: point.tenantId,
    id: anomalyId(point.tenantId, point.series, point.ts),
    series: point.series,
    ts: point.ts,
    value: point.value,
    score: point.score,
    severity: severityOf(point.score),
    detectors: DETECTORS,
    context: point.context,
    explanation: null,
    revision: 0,
    createdAt,
    retentionDays,
  };
}
