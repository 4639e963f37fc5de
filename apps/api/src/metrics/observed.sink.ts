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
  }
}
