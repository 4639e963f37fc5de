import {
  anomalyRecordOf,
  checkedAnomalyThreshold,
  DEFAULT_ANOMALY_THRESHOLD,
} from '@seismo/engine/pipeline/anomaly-record';
import { SeriesScorer, type SeriesScorerOptions } from '@seismo/engine/scoring/series-scorer';
import { type AnomalyRecord, type TenantId } from '@seismo/storage';

/** One series to stream, row by row in file order. */
export interface StreamedSeries {
  readonly name: string;
  readonly timestamps: ArrayLike<number>;
  readonly values: ArrayLike<number>;
}

export interface AnomalyStreamOptions {
  readonly tenantId: TenantId;
  /** The engine's scorer options (default: the ensemble with its defaults). */
  readonly scorer?: SeriesScorerOptions;
  /** Default: the engine's (0.5). */
  readonly threshold?: number;
}

/** An anomaly the engine emitted, with the row of the series it came from. */
export interface EmittedAnomaly {
  readonly index: number;
  readonly record: AnomalyRecord;
}

/**
 * The anomalies the engine emits for a series: each point scored by the engine's
 * SeriesScorer (score, then learn: a score at t sees only points up to t), and a point
 * scoring at least the threshold made into the row the engine writes, context window and
 * severity included. The detector never sees labels nor feedback, so one pass serves both
 * arms of the feedback benchmark.
 */
export function emitAnomalies(series: StreamedSeries, options: AnomalyStreamOptions): EmittedAnomaly[] {
  const threshold = checkedAnomalyThreshold(options.threshold ?? DEFAULT_ANOMALY_THRESHOLD);
  const scorer = new SeriesScorer(options.scorer);
  const { name, timestamps, values } = series;
  const anomalies: EmittedAnomaly[] = [];
  for (let i = 0; i < timestamps.length; i++) {
    const t = timestamps[i];
    const score = scorer.score(name, values[i], t);
    if (score < threshold) continue;
    const context = scorer.context(name);
    const record = anomalyRecordOf(
      { tenantId: options.tenantId, series: name, ts: t, value: values[i], score, context },
      t,
      1,
    );
    anomalies.push({ index: i, record });
  }
  return anomalies;
}
