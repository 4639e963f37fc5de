import { setTimeout as sleep } from 'node:timers/promises';
import { type PointBatch } from '@seismo/pipeline';
import { type InMemoryPointLog } from './in-memory-point.log';
import { type PointQueue, type QueueHandler } from './point-queue';
import { PointQueueException, PointQueueExceptionCode } from './point-queue.exception';

export interface InMemoryPointQueueOptions {
  /** Most messages per batch; fewer when fewer are waiting. */
  readonly maxBatchMessages: number;
  /** Pause before a batch whose handler failed is delivered again (default 1000 ms). */
  readonly retryDelayMs?: number;
}

/**
 * The embedded mode's queue: one consumer over an InMemoryPointLog, delivering each
 * partition's messages in offset order, one batch of a partition at a time, partitions
 * concurrently (as a Kafka consumer with `partitionsConsumedConcurrently`). A new queue
 * over the same log takes over from the last commit and fences this one.
 */
export class InMemoryPointQueue implements PointQueue {
  private readonly maxBatchMessages: number;
  private readonly retryDelayMs: number;
  private readonly stopping = new AbortController();
  private generation: number | undefined;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly log: InMemoryPointLog,
    options: InMemoryPointQueueOptions,
  ) {
    if (!Number.isInteger(options.maxBatchMessages) || options.maxBatchMessages < 1) {
      throw new RangeError(`maxBatchMessages must be a positive integer, got ${options.maxBatchMessages}`);
    }
    const retryDelayMs = options.retryDelayMs ?? 1000;
    if (!Number.isFinite(retryDelayMs) || retryDelayMs < 0) {
      throw new RangeError(`retryDelayMs must be a non-negative number, got ${retryDelayMs}`);
    }
    this.maxBatchMessages = options.maxBatchMessages;
    this.retryDelayMs = retryDelayMs;
  }

  get partitions(): number {
    return this.log.partitions;
  }

  append(partition: number, value: Uint8Array, decoded?: PointBatch): Promise<number> {
    return this.log.append(partition, value, decoded);
  }

  async run(handler: QueueHandler): Promise<void> {
    if (this.generation !== undefined) {
      throw new PointQueueException(
        PointQueueExceptionCode.ALREADY_RUNNING,
        'this queue already ran; a restart takes a new queue over the same log',
      );
    }
    const generation = this.log.attach();
    this.generation = generation;
    for (let partition = 0; partition < this.log.partitions; partition++) {
      this.loops.push(this.consume(partition, handler, generation));
    }
  }

  async commit(partition: number, offset: number): Promise<void> {
    if (this.generation === undefined) {
      throw new PointQueueException(
        PointQueueExceptionCode.NOT_RUNNING,
        `commit of partition ${partition} offset ${offset} refused: the queue is not running`,
      );
    }
    this.log.commit(partition, offset, this.generation);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.loops);
  }

  private async consume(partition: number, handler: QueueHandler, generation: number): Promise<void> {
    const signal = this.stopping.signal;
    let position = this.log.committed(partition) + 1;
    // Asked at the start and after every failed batch: the handler may have learned part
    // of what failed, and this log keeps nothing it committed, so there is nothing to
    // replay: the handler learns where the partition stands and restores its state.
    let ready = false;
    while (!signal.aborted && this.log.isCurrent(generation)) {
      if (!ready) {
        try {
          await handler.assigned?.(partition, this.log.committed(partition) + 1);
          ready = true;
        } catch {
          await sleep(this.retryDelayMs, undefined, { signal }).catch(() => undefined);
        }
        continue;
      }
      const batch = this.log.batchAt(partition, position, this.maxBatchMessages);
      if (!batch) {
        await this.log.waitForMessages(partition, position, signal);
        continue;
      }
      try {
        await handler.eachBatch(batch);
        position = batch.messages[batch.messages.length - 1].offset + 1;
      } catch {
        // The handler reports its own failures (it knows what it was doing); the queue's
        // part is to deliver the uncommitted messages again, as Kafka would after a restart.
        position = this.log.committed(partition) + 1;
        ready = false;
        await sleep(this.retryDelayMs, undefined, { signal }).catch(() => undefined);
      }
    }
  }
}
