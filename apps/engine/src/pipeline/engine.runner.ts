import { Logger, type LoggerService } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { type PartitionCheckpoint, type SeriesCheckpoint } from '@seismo/storage';
import { type BatchProcessor } from './batch.processor';
import { type PointConsumer, type QueueBatch } from './point-queue';
import { type ProcessedBatch } from './processed-batch';
import { type BatchSink } from './sink';

/** Where detector state is checkpointed: CheckpointRepository, or a fake in unit tests. */
export interface CheckpointStore {
  read(source: string, partition: number, upTo: number): Promise<PartitionCheckpoint>;
  write(
    source: string,
    partition: number,
    offset: number,
    series: readonly SeriesCheckpoint[],
  ): Promise<void>;
}

export interface CheckpointOptions {
  readonly store: CheckpointStore;
  /** The log's name (the topic), so two logs' partitions never share checkpoints. */
  readonly source: string;
  /** Least time between two rounds of one partition. */
  readonly intervalMs: number;
  /** Epoch milliseconds now (default Date.now). */
  readonly clock?: () => number;
}

export interface EngineRunnerOptions {
  /** Without it detector state lives only in memory: a restart starts every series afresh. */
  readonly checkpoints?: CheckpointOptions;
  /** First pause before a failed sink write is tried again; it doubles up to `maxRetryDelayMs`. */
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
  readonly logger?: Pick<LoggerService, 'log' | 'warn' | 'error'>;
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
  private readonly logger: Pick<LoggerService, 'log' | 'warn' | 'error'>;
  private readonly stopping = new AbortController();
  private readonly checkpoints: CheckpointOptions | undefined;
  private readonly clock: () => number;
  /** Per partition: the last offset committed by this engine. */
  private readonly committed = new Map<number, number>();
  /** Per partition: when its last checkpoint round was taken. */
  private readonly checkpointedAt = new Map<number, number>();
  /** Partitions whose last round failed: the next one writes every series, not only the changed. */
  private readonly needsFullRound = new Set<number>();

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
    this.checkpoints = options.checkpoints;
    this.clock = options.checkpoints?.clock ?? Date.now;
    if (this.checkpoints && !(this.checkpoints.intervalMs >= 0)) {
      throw new RangeError(
        `checkpoint intervalMs must be a non-negative number, got ${this.checkpoints.intervalMs}`,
      );
    }
  }

  async start(): Promise<void> {
    await this.consumer.run({
      assigned: (partition, committedNext) => this.assigned(partition, committedNext),
      eachBatch: (batch) => this.handle(batch),
    });
  }

  /**
   * Stops taking batches; a write in flight finishes (and commits), a retry wait ends
   * early. Then every partition whose state is at its committed offset is checkpointed,
   * so a clean restart replays nothing.
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.consumer.stop();
    if (!this.checkpoints) return;
    for (const [partition, offset] of this.committed) {
      if (this.processor.lastOffset(partition) === offset) await this.checkpoint(partition, offset);
    }
  }

  /**
   * A partition is ours: if the state held is not exactly at the commit (a first start,
   * or the partition was away), the checkpoint replaces it and the messages after the
   * checkpoint up to the commit are asked for again, to be learned without being written.
   */
  private async assigned(partition: number, committedNext: number): Promise<number> {
    const committed = committedNext - 1;
    if (!this.checkpoints || this.processor.lastOffset(partition) === committed) {
      this.committed.set(partition, committed);
      return committedNext;
    }
    const { store, source } = this.checkpoints;
    let checkpoint: PartitionCheckpoint;
    try {
      checkpoint = await store.read(source, partition, committed);
      this.processor.restore(partition, checkpoint);
    } catch (error) {
      this.logger.error(
        `restoring the detector state of partition ${partition} failed; it will be tried again: ${describe(error)}`,
      );
      throw error;
    }
    this.committed.set(partition, committed);
    this.checkpointedAt.set(partition, this.clock());
    const series = this.processor.seriesCount(partition);
    const replay = committed - checkpoint.offset;
    this.logger.log(
      checkpoint.offset < 0 && series === 0
        ? `partition ${partition}: no checkpoint${committed >= 0 ? `, replaying offsets 0-${committed}` : ''}`
        : `partition ${partition}: restored ${series} series as of offset ${checkpoint.offset}` +
            (replay > 0 ? `, replaying offsets ${checkpoint.offset + 1}-${committed}` : ''),
    );
    return checkpoint.offset + 1;
  }

  private async handle(batch: QueueBatch): Promise<void> {
    const first = batch.messages[0].offset;
    const last = batch.messages[batch.messages.length - 1].offset;
    if (batch.replay) {
      this.processor.process(batch);
      return;
    }
    const held = this.processor.lastOffset(batch.partition);
    if (this.checkpoints && held !== undefined && held >= 0 && first > held + 1) {
      // The log no longer has them (retention), or the embedded log lost them in a crash.
      this.logger.warn(
        `partition ${batch.partition}: offsets ${held + 1}-${first - 1} were not learned (no longer in the log); ` +
          `scoring goes on from the state at offset ${held}`,
      );
    }
    try {
      const processed = this.processor.process(batch);
      for (const letter of processed.deadLetters) {
        this.logger.warn(
          `dead letter, partition ${letter.partition} offset ${letter.offset}: ${letter.reason}`,
        );
      }
      await this.writeUntilTaken(processed);
      await this.consumer.commit(batch.partition, last);
      this.committed.set(batch.partition, last);
    } catch (error) {
      if (!this.stopping.signal.aborted) {
        this.logger.error(
          `partition ${batch.partition} offsets ${first}-${last} failed and will be delivered again: ${describe(error)}`,
          error instanceof Error ? error.stack : undefined,
        );
      }
      throw error;
    }
    await this.checkpointIfDue(batch.partition, last);
  }

  /**
   * Checkpoints after the commit, and with the state as of it: a checkpoint then never
   * covers an offset the log could deliver again as new.
   */
  private async checkpointIfDue(partition: number, offset: number): Promise<void> {
    if (!this.checkpoints) return;
    const since = this.clock() - (this.checkpointedAt.get(partition) ?? Number.NEGATIVE_INFINITY);
    if (since >= this.checkpoints.intervalMs) await this.checkpoint(partition, offset);
  }

  /** One round; a failure is logged, not thrown: the data is safe, and the next round writes everything. */
  private async checkpoint(partition: number, offset: number): Promise<void> {
    const { store, source } = this.checkpoints!;
    const full = this.needsFullRound.delete(partition);
    const rows = this.processor.takeCheckpoint(partition, full);
    this.checkpointedAt.set(partition, this.clock());
    try {
      await store.write(source, partition, offset, rows);
    } catch (error) {
      this.needsFullRound.add(partition);
      this.logger.warn(
        `checkpoint of partition ${partition} at offset ${offset} failed (a restart would replay from the previous one): ${describe(error)}`,
      );
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
