import { Logger, type LoggerService } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BatchProcessor } from './batch.processor';
import { type PointConsumer, type QueueBatch } from './point-queue';
import { type ProcessedBatch } from './processed-batch';
import { type BatchSink } from './sink';

export interface EngineRunnerOptions {
  /** First pause before a failed sink write is tried again; it doubles up to `maxRetryDelayMs`. */
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
  readonly logger?: Pick<LoggerService, 'warn' | 'error'>;
}

/**
 * The engine's loop: queue -> processor -> sink -> commit. An offset is committed only
 * after the sink resolved, so a crash at any instant leaves the batch uncommitted and it
 * is delivered again; the sink's dedup tokens make that replay store nothing twice.
 *
 * A failed write is retried here, with the rows already computed, rather than by having
 * the queue deliver the batch again: detector state has learned those points once, and
 * scoring them a second time would change it. A write that keeps failing holds its
 * partition (nothing is skipped or lost) and says so in the log at every attempt.
 */
export class EngineRunner {
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly logger: Pick<LoggerService, 'warn' | 'error'>;
  private readonly stopping = new AbortController();

  constructor(
    private readonly consumer: PointConsumer,
    private readonly processor: BatchProcessor,
    private readonly sink: BatchSink,
    options: EngineRunnerOptions = {},
  ) {
    this.retryDelayMs = options.retryDelayMs ?? 200;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 10_000;
    if (!(this.retryDelayMs > 0) || !(this.maxRetryDelayMs >= this.retryDelayMs)) {
      throw new RangeError(
        `retry delays must satisfy 0 < retryDelayMs <= maxRetryDelayMs, got ${this.retryDelayMs} and ${this.maxRetryDelayMs}`,
      );
    }
    this.logger = options.logger ?? new Logger(EngineRunner.name);
  }

  async start(): Promise<void> {
    await this.consumer.run({ eachBatch: (batch) => this.handle(batch) });
  }

  /** Stops taking batches; a write in flight finishes (and commits), a retry wait ends early. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.consumer.stop();
  }

  private async handle(batch: QueueBatch): Promise<void> {
    const first = batch.messages[0].offset;
    const last = batch.messages[batch.messages.length - 1].offset;
    try {
      const processed = this.processor.process(batch);
      for (const letter of processed.deadLetters) {
        this.logger.warn(
          `dead letter, partition ${letter.partition} offset ${letter.offset}: ${letter.reason}`,
        );
      }
      await this.writeUntilTaken(processed);
      await this.consumer.commit(batch.partition, last);
    } catch (error) {
      if (!this.stopping.signal.aborted) {
        this.logger.error(
          `partition ${batch.partition} offsets ${first}-${last} failed and will be delivered again: ${describe(error)}`,
          error instanceof Error ? error.stack : undefined,
        );
      }
      throw error;
    }
  }

  private async writeUntilTaken(batch: ProcessedBatch): Promise<void> {
    const signal = this.stopping.signal;
    let delay = this.retryDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.sink.write(batch);
        return;
      } catch (error) {
        const what = `writing partition ${batch.partition} offsets ${batch.firstOffset}-${batch.lastOffset}`;
        if (!signal.aborted) {
          this.logger.error(
            `${what} failed (attempt ${attempt}), retrying in ${delay} ms: ${describe(error)}`,
          );
          await sleep(delay, undefined, { signal }).catch(() => undefined);
        }
        if (signal.aborted) {
          throw new Error(`${what} abandoned: the engine stopped; the batch stays uncommitted`, {
            cause: error,
          });
        }
        delay = Math.min(delay * 2, this.maxRetryDelayMs);
      }
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
