import { type PointBatch } from '@seismo/pipeline';

/**
 * The log of point batches between ingest and the engine, shaped like a Kafka topic read
 * by a consumer group with manual commits, so that the embedded queue and Kafka are two
 * implementations of one contract and the engine cannot tell them apart:
 *
 * - `append` is the producer: it resolves with the message's offset once the queue holds
 *   it, and may wait first (backpressure) rather than buffer without bound.
 * - `run` hands batches of messages to `eachBatch`, in offset order within a partition,
 *   one batch of a partition at a time (partitions run concurrently). A batch that is not
 *   committed is delivered again after a restart, so `eachBatch` must be safe to repeat:
 *   the sinks' dedup tokens and deterministic ids make it so.
 * - `commit(partition, offset)` records that every message up to and including `offset`
 *   is durably taken. A new consumer over the same log starts right after it. (Kafka
 *   stores the next offset to read; its implementation commits `offset + 1`.)
 *
 * kafkajs' `eachBatch({ batch })` maps onto this directly: `batch.partition`, and
 * `batch.messages` with `Number(message.offset)` and `message.value`.
 */

/** One message: the bytes of an encoded PointBatch at its offset. */
export interface QueueMessage {
  readonly offset: number;
  readonly value: Uint8Array;
  /**
   * The PointBatch `value` encodes, as its producer built it, when the queue kept it: the
   * embedded queue, in the producer's process, hands it over and the engine skips decoding
   * (and reads series names whose hashes are already known). Kafka carries bytes only.
   */
  readonly decoded?: PointBatch;
}

/** Consecutive messages of one partition, oldest first; never empty. */
export interface QueueBatch {
  readonly partition: number;
  readonly messages: readonly QueueMessage[];
  /**
   * Messages already taken (at or below the committed offset), delivered again because
   * `assigned` asked for them: to rebuild state, not to be written or committed.
   */
  readonly replay?: boolean;
}

export interface QueueHandler {
  /**
   * Called when this consumer takes a partition, before any batch of it: `committedNext`
   * is the first offset not yet taken. Resolves with the first offset the handler needs,
   * at most `committedNext`: lower when its state of the partition is older than the
   * commit and must be rebuilt from messages already taken. A queue that still holds
   * those delivers them first, as `replay` batches; one that does not (the embedded
   * queue keeps nothing it committed) starts at `committedNext` all the same.
   */
  assigned?(partition: number, committedNext: number): Promise<number>;
  /**
   * Called when a partition this consumer had went to another one (a rebalance): what the
   * handler holds for it is stale from now on. Its batches still in flight may finish;
   * their commits are refused.
   */
  revoked?(partition: number): void;
  /**
   * Resolves when the handler is ready for the partition's next batch (the engine's
   * resolves once a batch is scored, and commits it later, once written); a rejection
   * has the partition delivered again from its last commit.
   */
  eachBatch(batch: QueueBatch): Promise<void>;
}

export interface PointProducer {
  readonly partitions: number;
  /**
   * Adds a message to a partition and resolves with its offset. Waits while the partition
   * is full: the queue keeps `value` without copying it, so it must not change afterwards.
   * `decoded`, when given, is the batch `value` encodes; a queue may hand it to the
   * consumer with the bytes (see QueueMessage), so it must not change either.
   */
  append(partition: number, value: Uint8Array, decoded?: PointBatch): Promise<number>;
}

export interface PointConsumer {
  readonly partitions: number;
  /** Starts delivering to `handler` and returns; batches arrive until `stop`. */
  run(handler: QueueHandler): Promise<void>;
  /** Marks every message of `partition` up to and including `offset` as taken. */
  commit(partition: number, offset: number): Promise<void>;
  /** Stops delivering; resolves once no `eachBatch` call of this consumer is running. */
  stop(): Promise<void>;
}

export type PointQueue = PointProducer & PointConsumer;
