import {
  type AnomalyRepository,
  parseDedupToken,
  type PointRepository,
  type SeriesHourRepository,
  type UsageRepository,
} from '@seismo/storage';
import { type ProcessedBatch } from './processed-batch';
import { type BatchSink } from './sink';

/**
 * Writes a batch's points, anomalies and usage counts to ClickHouse. Each insert carries a
 * dedup token naming where the batch came from, `<source>/<partition>/<first>-<last>`, so
 * writing the same offset range again (a retry, or a replay after a crash before the
 * commit) is dropped by ClickHouse. The tables dedup independently, so the tokens can be equal.
 *
 * Points, anomalies, hourly aggregates and usage are written at once, and the write ends
 * only once all of them did: a failure leaves nothing running behind the caller's back,
 * and the retry writes them all again, ClickHouse dropping whichever had landed (the usage
 * INSERT, a fixed few milliseconds, no longer waits for the points'). The usage counts are metering: they ride in this step so that
 * they are durable exactly when the work they count is, and the offsets (committed after
 * the sink) cover both.
 */
export class ClickHouseSink implements BatchSink {
  constructor(
    private readonly points: PointRepository,
    private readonly anomalies: AnomalyRepository,
    private readonly usage: UsageRepository,
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
      this.usage.insertBatch(batch.usage, token),
    ]);
    const failed = writes.find((w): w is PromiseRejectedResult => w.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
