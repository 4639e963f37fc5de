import { toAnomalyEvent } from '@seismo/engine/pipeline/anomaly-event';
import { type ProcessedBatch } from '@seismo/engine/pipeline/processed-batch';
import { type BatchSink } from '@seismo/engine/pipeline/sink';
import { type AnomalyFeed } from './anomaly.feed';

/**
 * A BatchSink that announces a batch's anomalies on the feed once the sink it wraps has
 * taken the batch, so the stream only ever shows anomalies that are stored (a failed write
 * announces nothing; its retry announces them when it succeeds).
 *
 * A batch written again after a crash (its offsets were not committed) announces its
 * anomalies again: the events keep their deterministic ids, and the stream sends the id as
 * the SSE event id, so a client drops an id it has already seen.
 */
export class FeedSink implements BatchSink {
  constructor(
    private readonly inner: BatchSink,
    private readonly feed: AnomalyFeed,
  ) {}

  async write(batch: ProcessedBatch): Promise<void> {
    await this.inner.write(batch);
    for (const anomaly of batch.anomalies) {
      // Most tenants have no dashboard open: their anomalies cost a map lookup, no event.
      if (this.feed.watched(anomaly.tenantId)) this.feed.publish(toAnomalyEvent(anomaly));
    }
  }
}
