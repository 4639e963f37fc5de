import { describeCause } from '@seismo/storage';
import { type ProcessedBatch } from './processed-batch';
import { type BatchSink } from './sink';

/** Some sinks of a fan-out refused a batch; `errors` holds their errors, in the order of `sinks`. */
export class FanOutSinkError extends AggregateError {
  override readonly name = 'FanOutSinkError';

  constructor(
    /** The names of the sinks that failed. */
    readonly sinks: readonly string[],
    errors: readonly unknown[],
  ) {
    super(errors, errors.map((error, i) => `sink ${sinks[i]} failed: ${describeCause(error)}`).join('; '));
  }
}

/**
 * Writes each batch to several sinks at once (ClickHouse, the anomalies topic, the DLQ) and
 * resolves only when every one has taken it, so the engine commits the offsets only then.
 *
 * The writes run in parallel, and a failure waits for the others to settle before it is
 * reported: nothing is left running behind the caller's back. The runner then retries the
 * same batch, and this sink writes it only to the sinks that have not taken it yet, so a
 * ClickHouse outage does not publish a batch's anomalies again at every attempt. A replay
 * after a crash is a new batch object and goes to every sink again; that is what each sink's
 * contract is for (ClickHouse drops repeats by dedup token, the Kafka sinks are at least once
 * and their readers deduplicate by anomaly id or dead-letter origin).
 */
export class FanOutSink implements BatchSink {
  private readonly names: readonly string[];
  private readonly sinks: readonly BatchSink[];
  /** For a batch that failed somewhere, the indices of the sinks that took it. */
  private readonly taken = new WeakMap<ProcessedBatch, Set<number>>();

  /** `sinks` by name; the names appear in errors. */
  constructor(sinks: Readonly<Record<string, BatchSink>>) {
    this.names = Object.keys(sinks);
    this.sinks = Object.values(sinks);
    if (this.sinks.length === 0) throw new RangeError('a fan-out needs at least one sink');
  }

  async write(batch: ProcessedBatch): Promise<void> {
    const taken = this.taken.get(batch);
    const pending = this.sinks.flatMap((_, i) => (taken?.has(i) ? [] : [i]));
    const results = await Promise.allSettled(pending.map((i) => this.sinks[i].write(batch)));
    const failed: number[] = [];
    const errors: unknown[] = [];
    results.forEach((result, k) => {
      if (result.status === 'rejected') {
        failed.push(pending[k]);
        errors.push(result.reason);
      }
    });
    if (failed.length === 0) {
      this.taken.delete(batch);
      return;
    }
    const took = taken ?? new Set<number>();
    for (const i of pending) if (!failed.includes(i)) took.add(i);
    this.taken.set(batch, took);
    throw new FanOutSinkError(
      failed.map((i) => this.names[i]),
      errors,
    );
  }
}
