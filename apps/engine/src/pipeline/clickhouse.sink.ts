import {
  type AnomalyRepository,
  parseDedupToken,
  type PointRepository,
  type SeriesHourRepository,
} from '@seismo/storage';
import { type ProcessedBatch } from './processed-batch';
import { type BatchSink } from './sink';

/**
 * Writes a batch's points, anomalies and zero-retention hourly aggregates to ClickHouse.
 * Each insert carries a dedup token naming where the batch came from,
 * `<source>/<partition>/<first>-<last>`, so writing the same offset range again (a retry,
 * or a replay after a crash before the commit) is dropped by ClickHouse. The tables dedup
 * independently, so the tokens can be equal.
 *
 * They are written at once, and the write ends only once all of them did: a failure
 * leaves nothing running behind the caller's back, and the retry writes them all again,
 * ClickHouse dropping whichever had landed. A batch's usage counts are not written here:
 * the runner's UsageCommitter writes those of many batches in one INSERT, and the offsets
 * are committed only once both are stored.
 */
export class ClickHouseSink implements BatchSink {
  constructor(
    private readonly points: PointRepository,
    private readonly anomalies: AnomalyRepository,
    /** The topic, or the embedded queue's name: keeps tokens of different logs apart. */
    private readonly source = 'seismo.points',
    /** Where zero-retention tenants' hourly summaries go; required once a batch carries any. */
    private readonly hours?: SeriesHourRepository,
  ) {}

  async write(batch: ProcessedBatch): Promise<void> {
    const token = parseDedupToken(
      `${this.source}/${batch.partition}/${batch.firstOffset}-${batch.lastOffset}`,
    );
    const hourly = batch.hourly ?? [];
    // Never dropped silently: a zero-retention tenant's hours are all that remains of its points.
    if (hourly.length > 0 && !this.hours)
      throw new Error('a batch carries hourly aggregates and this sink has nowhere to write them');
    const writes = await Promise.allSettled([
      this.points.insertBatch(batch.points, token),
      this.anomalies.insertBatch(batch.anomalies, token),
      ...(hourly.length > 0 ? [this.hours!.insertBatch(hourly, token)] : []),
    ]);
    const failed = writes.find((w): w is PromiseRejectedResult => w.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
