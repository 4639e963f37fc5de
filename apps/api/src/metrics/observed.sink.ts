import { type ProcessedBatch } from '@seismo/engine/pipeline/processed-batch';
import { type BatchSink } from '@seismo/engine/pipeline/sink';
import { type SeismoMetrics } from './seismo.metrics';

/**
 * A BatchSink that counts what the engine produced and times how long storage took it,
 * around the sink that does the writing. The engine knows nothing of metrics: the runtime
 * wraps the sink it hands to EngineRunner, which calls `write` once per batch and again
 * only after a failure, so counting after a successful write counts each batch once.
 */
export class ObservedSink implements BatchSink {
  /** Series seen, per tenant: the name strings are those the batch already holds, so this adds a set entry per series. */
  private readonly seen = new Map<string, Set<string>>();
  private seriesCount = 0;

  constructor(
    private readonly inner: BatchSink,
    private readonly metrics: SeismoMetrics,
  ) {}

  async write(batch: ProcessedBatch): Promise<void> {
    const stop = this.metrics.batchWriteDuration.startTimer();
    try {
      await this.inner.write(batch);
    } finally {
      stop();
    }
    this.metrics.storedPoints.inc(batch.points.length);
    this.metrics.anomalies.inc(batch.anomalies.length);
    this.metrics.deadLetters.inc(batch.deadLetters.length);
    this.countSeries(batch);
  }

  private countSeries(batch: ProcessedBatch): void {
    for (const point of batch.points) {
      let names = this.seen.get(point.tenantId);
      if (!names) {
        names = new Set();
        this.seen.set(point.tenantId, names);
      }
      if (!names.has(point.series)) {
        names.add(point.series);
        this.seriesCount++;
      }
    }
    this.metrics.series.set(this.seriesCount);
  }
}
