import { Logger, type LoggerService } from '@nestjs/common';
import {
  describeCause,
  type PartitionCheckpoint,
  type SeriesCheckpoint,
  type TenantId,
} from '@seismo/storage';
import { type BatchProcessor, UnknownTenantError } from './batch.processor';
import { type PointConsumer, type QueueBatch } from './point-queue';
import { PointQueueException, PointQueueExceptionCode } from './point-queue.exception';
import { type ProcessedBatch } from './processed-batch';
import { retryDelays, type RetryOptions, retryUntilStopped } from './retry';
import { type BatchSink } from './sink';
import { type UsageCommitter } from './usage.committer';

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
  /**
   * Batches of one partition scored and not yet written (default 2): the next batch is
   * scored while the previous one is written, and a slow sink holds the partition here.
   * Written batches wait for their usage INSERT (UsageCommitter's linger) to be committed
   * without holding the partition.
   */
  readonly maxWritesInFlight?: number;
  readonly logger?: Pick<LoggerService, 'log' | 'warn' | 'error'>;
  /**
   * Looks for a tenant the engine does not know (TenantDirectory.find). Given, a batch
   * with points of an unknown tenant is processed again once it resolved, and
   * dead-lettered only if the tenant is still unknown: a tenant made on another process a
   * moment ago is scored, not refused.
   */
  readonly refreshTenants?: (tenant: TenantId) => Promise<void>;
  /**
   * Where batches' usage counts go (the sink writes the rest of a batch); a batch is
   * committed once its usage is stored. Without it nothing is metered.
   */
  readonly usage?: Pick<UsageCommitter, 'add' | 'flush' | 'forget' | 'stop' | 'writtenThrough'>;
}

/** One partition's batches between scoring and commit, oldest first. */
interface PartitionWrites {
  /**
   * Each settles (never rejects) once its batch is committed, or given up and its usage
   * INSERT settled; it then leaves the list.
   */
  readonly pending: Array<Promise<void>>;
  /** Each settles once its batch's rows are written (or given up): the batches `maxWritesInFlight` counts. */
  readonly writing: Array<Promise<void>>;
  /** The first write or commit that failed: the later batches are dropped, the partition delivered again. */
  failure: unknown;
}

/** A batch written, on its way to its commit: what the commit needs, not the rows. */
interface WrittenBatch {
  readonly partition: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly usage: ProcessedBatch['usage'];
  /** Settles once the batch's usage is stored: true when by this engine, false when found counted already or never counted. */
  readonly counted: Promise<boolean>;
}

/**
 * Most batches of one partition scored and not yet committed. They are few (the usage
 * linger holds a commit half a second); many mean the usage INSERT is failing, and the
 * partition then waits rather than piling up work a crash would replay.
 */
const MAX_UNCOMMITTED = 64;

/** Thrown to the queue for batches that arrive while the engine stops: they stay uncommitted. */
class EngineStopping extends Error {
  constructor() {
    super('the engine is stopping');
  }
}

/**
 * The engine's loop: queue -> processor -> sink and usage -> commit. An offset is
 * committed only after the sink resolved and the batch's usage is stored, so a crash at
 * any instant leaves the batch uncommitted and it is delivered again; the sink's dedup
 * tokens make that replay store nothing twice, and the usage of a batch delivered again
 * is left out when the partition's mark says it is counted (see UsageCommitter).
 *
 * Scoring and writing overlap: a batch is handed back to the queue once scored, and its
 * write and commit follow in the partition's order while the next batches are scored, up
 * to `maxWritesInFlight` unwritten ones (then the partition waits: backpressure, not a
 * buffer).
 * A batch whose write or commit fails takes the rest of its partition's queue with it,
 * and the partition is delivered again from its last commit, its state restored first.
 *
 * A failed write is retried here, with the rows already computed, rather than by having
 * the queue deliver the batch again: detector state has learned those points once, and
 * scoring them a second time would change it. A write that keeps failing holds its
 * partition (nothing is skipped or lost) and says so in the log at every attempt.
 */
export class EngineRunner {
  private readonly retryDelays: Pick<RetryOptions, 'delayMs' | 'maxDelayMs'>;
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
  private readonly maxWritesInFlight: number;
  private readonly writes = new Map<number, PartitionWrites>();
  /** Per partition: the checkpoint round being written, if any. */
  private readonly checkpointWrites = new Map<number, Promise<void>>();
  private readonly refreshTenants: ((tenant: TenantId) => Promise<void>) | undefined;
  private readonly usage: EngineRunnerOptions['usage'];
  /** Per partition, as read when it was assigned: the last offset whose usage was stored already. */
  private readonly countedThrough = new Map<number, number>();
  /** Drains under way: while any is, usage is written as soon as it is added. */
  private draining = 0;

  constructor(
    private readonly consumer: PointConsumer,
    private readonly processor: BatchProcessor,
    private readonly sink: BatchSink,
    options: EngineRunnerOptions = {},
  ) {
    this.retryDelays = retryDelays(options);
    this.maxWritesInFlight = options.maxWritesInFlight ?? 2;
    if (!Number.isInteger(this.maxWritesInFlight) || this.maxWritesInFlight < 1) {
      throw new RangeError(`maxWritesInFlight must be a positive integer, got ${this.maxWritesInFlight}`);
    }
    this.logger = options.logger ?? new Logger(EngineRunner.name);
    this.refreshTenants = options.refreshTenants;
    this.usage = options.usage;
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
      revoked: (partition) => this.revoked(partition),
      eachBatch: (batch) => this.handle(batch),
    });
  }

  /**
   * Stops taking batches; writes in flight finish (and commit) while the consumer still
   * owns its partitions, a retry wait ends early. Then every partition whose state is at
   * its committed offset is checkpointed, so a clean restart replays nothing.
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.usage?.stop();
    await this.drainAll();
    await this.consumer.stop();
    await this.drainAll();
    if (!this.checkpoints) return;
    await Promise.all(this.checkpointWrites.values());
    for (const [partition, offset] of this.committed) {
      // A partition that never committed (offset -1: nothing consumed) has no state to keep.
      if (offset >= 0 && this.processor.lastOffset(partition) === offset)
        await this.checkpoint(partition, offset);
    }
  }

  /**
   * A partition is ours: if the state held is not exactly at the commit (a first start,
   * or the partition was away), the checkpoint replaces it and the messages after the
   * checkpoint up to the commit are asked for again, to be learned without being written.
   */
  private async assigned(partition: number, committedNext: number): Promise<number> {
    // Writes of an earlier ownership settle first (their commits may be refused); the
    // state is then compared with the commit the group holds, which is all that counts.
    await this.drain(partition);
    if (this.stopping.signal.aborted) throw new EngineStopping();
    this.writesOf(partition).failure = undefined;
    if (this.usage) await this.readCountedThrough(partition);
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
        `restoring the detector state of partition ${partition} failed; it will be tried again: ${describeCause(error)}`,
      );
      throw error;
    }
    this.committed.set(partition, committed);
    this.checkpointedAt.set(partition, this.clock() - this.firstRoundLead(partition));
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

  /**
   * Another engine owns the partition now: its detector state is dropped (were it to
   * come back, `assigned` restores it from the checkpoint the new owner kept writing).
   * Writes in flight finish against their own rows; their commits are refused.
   */
  private revoked(partition: number): void {
    this.processor.drop(partition);
    this.committed.delete(partition);
    this.countedThrough.delete(partition);
    this.usage?.forget(partition);
    this.checkpointedAt.delete(partition);
    this.needsFullRound.delete(partition);
    this.logger.log(`partition ${partition}: now another engine's; its state here is dropped`);
  }

  private async handle(batch: QueueBatch): Promise<void> {
    const { partition } = batch;
    const first = batch.messages[0].offset;
    const last = batch.messages[batch.messages.length - 1].offset;
    const writes = this.writesOf(partition);
    if (this.stopping.signal.aborted) throw new EngineStopping();
    if (writes.failure !== undefined) {
      // Already reported; the queue delivers the partition again from its last commit.
      await this.drain(partition);
      const failure = writes.failure;
      writes.failure = undefined;
      throw failure;
    }
    if (batch.replay) {
      this.processor.process(batch);
      return;
    }
    if (this.checkpointDue(partition)) {
      // A checkpoint holds the state as of a commit: the batches in flight land first.
      await this.drain(partition);
      if (this.stopping.signal.aborted) throw new EngineStopping();
      const committed = this.committed.get(partition);
      // Still due: the last write's own round may have been taken meanwhile.
      const due = this.checkpointDue(partition);
      if (due && writes.failure === undefined && committed !== undefined && committed >= 0) {
        if (this.processor.lastOffset(partition) === committed) void this.checkpoint(partition, committed);
      }
      if (writes.failure !== undefined) return this.handle(batch);
    }
    const held = this.processor.lastOffset(partition);
    if (this.checkpoints && held !== undefined && held >= 0 && first > held + 1) {
      // The log no longer has them (retention), or the embedded log lost them in a crash.
      this.logger.warn(
        `partition ${partition}: offsets ${held + 1}-${first - 1} were not learned (no longer in the log); ` +
          `scoring goes on from the state at offset ${held}`,
      );
    }
    let processed: ProcessedBatch;
    try {
      processed = await this.processKnowingTenants(batch);
    } catch (error) {
      this.logger.error(
        `partition ${partition} offsets ${first}-${last} failed and will be delivered again: ${describeCause(error)}`,
        error instanceof Error ? error.stack : undefined,
      );
      throw error;
    }
    for (const letter of processed.deadLetters) {
      this.logger.warn(
        `dead letter, partition ${letter.partition} offset ${letter.offset}: ${letter.reason}`,
      );
    }
    if (!this.countsUsage(processed)) processed = { ...processed, usage: [] };
    // Writes follow each other, and so do commits; a batch's commit also waits for its usage.
    const lastWritten = writes.writing[writes.writing.length - 1] ?? Promise.resolve();
    const lastDone = writes.pending[writes.pending.length - 1] ?? Promise.resolve();
    const written = lastWritten.then(() => this.write(processed, writes));
    const done = Promise.all([written, lastDone]).then(([batch]) =>
      batch ? this.commit(batch, writes) : undefined,
    );
    const writing = written.then(() => undefined);
    track(writes.writing, writing);
    track(writes.pending, done);
    while (writes.writing.length >= this.maxWritesInFlight) await writes.writing[0];
    // Written batches wait for their usage INSERT; should it keep failing, this bounds them.
    while (writes.pending.length >= MAX_UNCOMMITTED) await writes.pending[0];
  }

  /**
   * Whether a batch's usage is to be counted: not when its usage was stored already, by
   * this engine before its commit was lost, or by an earlier owner (read at assignment).
   */
  private countsUsage(batch: ProcessedBatch): boolean {
    if (!this.usage) return false;
    const through = this.countedThrough.get(batch.partition) ?? -1;
    if (batch.lastOffset <= through) return false;
    if (batch.firstOffset <= through) {
      // Cuts repeat (see kafka-point.cuts.ts), so a mark never falls inside a batch.
      this.logger.warn(
        `partition ${batch.partition}: offsets ${batch.firstOffset}-${batch.lastOffset} straddle the usage stored through ${through}; the batch is counted whole`,
      );
    }
    return true;
  }

  private async readCountedThrough(partition: number): Promise<void> {
    try {
      this.countedThrough.set(partition, await this.usage!.writtenThrough(partition));
    } catch (error) {
      this.logger.error(
        `reading how far partition ${partition}'s usage is stored failed; it will be tried again: ${describeCause(error)}`,
      );
      throw error;
    }
  }

  /** Processes a batch, refreshing the tenants first when it names one not known yet. */
  private async processKnowingTenants(batch: QueueBatch): Promise<ProcessedBatch> {
    if (!this.refreshTenants) return this.processor.process(batch);
    try {
      return this.processor.process(batch, { unknownTenants: 'throw' });
    } catch (error) {
      if (!(error instanceof UnknownTenantError)) throw error;
      await this.refreshTenants(error.tenant);
      return this.processor.process(batch);
    }
  }

  /** Writes a batch after the ones before it and hands its usage on; after a failure, drops it. */
  private async write(batch: ProcessedBatch, writes: PartitionWrites): Promise<WrittenBatch | undefined> {
    if (writes.failure !== undefined) return undefined;
    try {
      await this.untilTaken(`writing ${offsetsOf(batch)}`, () => this.sink.write(batch));
    } catch (error) {
      this.fail(batch, writes, error);
      return undefined;
    }
    const counted = this.usage
      ? this.usage.add(batch.partition, batch.lastOffset, batch.usage)
      : Promise.resolve(false);
    // Awaited by the commit; a rejection before then is not unhandled.
    counted.catch(() => undefined);
    if (this.draining > 0) this.usage?.flush();
    const { partition, firstOffset, lastOffset, usage } = batch;
    return { partition, firstOffset, lastOffset, usage, counted };
  }

  /** Commits a written batch once its usage is stored, after the batches before it. */
  private async commit(batch: WrittenBatch, writes: PartitionWrites): Promise<void> {
    // Even when the batch will not be committed, its usage INSERT settles first: a drain
    // (before the partition is read again at assignment) then leaves none in flight.
    const counted = await batch.counted.then(
      (stored) => ({ stored }),
      (error: unknown) => ({ error }),
    );
    if (writes.failure !== undefined) return;
    try {
      if ('error' in counted) throw counted.error;
      if (counted.stored) {
        this.processor.stored(batch);
        // Should the partition be delivered again from its last commit, this batch's usage stays out.
        const through = this.countedThrough.get(batch.partition) ?? -1;
        this.countedThrough.set(batch.partition, Math.max(through, batch.lastOffset));
      }
      // A commit the queue refuses for good (the partition went to another member) is not
      // retried: the partition is delivered again from the last commit it holds.
      await this.untilTaken(
        `committing ${offsetsOf(batch)}`,
        () => this.consumer.commit(batch.partition, batch.lastOffset),
        (error) => error instanceof PointQueueException,
      );
      this.committed.set(batch.partition, batch.lastOffset);
      // Nothing scored past this batch: the state is the commit's, a round can be taken now.
      // (Otherwise the next batch drains the partition first when a round is due.)
      if (
        this.checkpointDue(batch.partition) &&
        this.processor.lastOffset(batch.partition) === batch.lastOffset
      ) {
        void this.checkpoint(batch.partition, batch.lastOffset);
      }
    } catch (error) {
      this.fail(batch, writes, error);
    }
  }

  private fail(
    batch: Omit<WrittenBatch, 'counted' | 'usage'>,
    writes: PartitionWrites,
    error: unknown,
  ): void {
    if (writes.failure !== undefined) return;
    writes.failure = error;
    if (error instanceof PointQueueException && error.code === PointQueueExceptionCode.FENCED) {
      // A rebalance: what this engine wrote is stored, and the next owner, this engine
      // or another, takes the partition from the commit the group holds.
      this.logger.warn(`${offsetsOf(batch)} stay uncommitted: ${describeCause(error)}`);
    } else if (!this.stopping.signal.aborted) {
      this.logger.error(
        `${offsetsOf(batch)} failed and will be delivered again: ${describeCause(error)}`,
        error instanceof Error ? error.stack : undefined,
      );
    }
  }

  private writesOf(partition: number): PartitionWrites {
    let writes = this.writes.get(partition);
    if (!writes) {
      writes = { pending: [], writing: [], failure: undefined };
      this.writes.set(partition, writes);
    }
    return writes;
  }

  /**
   * Resolves once every batch of `partition` in flight is committed or given up; their
   * usage is written without lingering meanwhile.
   */
  private async drain(partition: number): Promise<void> {
    const pending = this.writes.get(partition)?.pending;
    this.draining++;
    try {
      this.usage?.flush();
      while (pending && pending.length > 0) await pending[pending.length - 1];
    } finally {
      this.draining--;
    }
  }

  private async drainAll(): Promise<void> {
    for (const partition of this.writes.keys()) await this.drain(partition);
  }

  /**
   * How much sooner than a whole interval after its assignment a partition's first round
   * falls: a share of the interval set by its number (times the golden ratio, modulo 1:
   * 0, 0.62, 0.24, 0.85, ... spread evenly for any count). Partitions taken together would
   * otherwise all drain and write their rounds at the same moment, every interval, and
   * hold up every partition's anomalies at once (a 1.5-s stall in the embedded latency
   * benchmark); staggered, one partition pauses at a time. Rounds stay an interval apart.
   */
  private firstRoundLead(partition: number): number {
    const share = (partition * GOLDEN_RATIO_CONJUGATE) % 1;
    return share * this.checkpoints!.intervalMs;
  }

  /**
   * Whether a partition's round is due. It is taken with the state as of a commit (the
   * batches in flight drained first): a checkpoint then never covers an offset the log
   * could deliver again as new.
   */
  private checkpointDue(partition: number): boolean {
    if (!this.checkpoints || this.checkpointWrites.has(partition)) return false;
    const since = this.clock() - (this.checkpointedAt.get(partition) ?? Number.NEGATIVE_INFINITY);
    return since >= this.checkpoints.intervalMs;
  }

  /**
   * One round: the state taken now, as of `offset`, and written in the background (the
   * partition goes on scoring while ClickHouse takes a round that may weigh megabytes). A
   * failure is logged, not thrown: the data is safe, and the next round writes everything.
   * The next round of the partition waits until this one settled (see `checkpointDue`),
   * so that it knows whether it must be whole. Resolves once this round settled.
   */
  private checkpoint(partition: number, offset: number): Promise<void> {
    const { store, source } = this.checkpoints!;
    const full = this.needsFullRound.delete(partition);
    const rows = this.processor.takeCheckpoint(partition, full);
    this.checkpointedAt.set(partition, this.clock());
    const write = (async () => {
      try {
        await store.write(source, partition, offset, rows);
      } catch (error) {
        this.needsFullRound.add(partition);
        this.logger.warn(
          `checkpoint of partition ${partition} at offset ${offset} failed (a restart would replay from the previous one): ${describeCause(error)}`,
        );
      }
    })();
    this.checkpointWrites.set(partition, write);
    void write.finally(() => {
      if (this.checkpointWrites.get(partition) === write) this.checkpointWrites.delete(partition);
    });
    return write;
  }

  /**
   * Runs `attempt` until it succeeds (see retryUntilStopped); `final` errors are not
   * retried. When the engine stops, a failing attempt is abandoned and its batch stays
   * uncommitted.
   */
  private untilTaken(
    what: string,
    attempt: () => Promise<void>,
    final?: (error: unknown) => boolean,
  ): Promise<void> {
    return retryUntilStopped(what, attempt, {
      signal: this.stopping.signal,
      ...this.retryDelays,
      logger: this.logger,
      ...(final ? { final } : {}),
    });
  }
}

/** (√5 - 1) / 2: multiples of it, modulo 1, fill [0, 1) evenly (the Weyl sequence). */
const GOLDEN_RATIO_CONJUGATE = (Math.sqrt(5) - 1) / 2;

/** Adds a promise that never rejects to `list`, which it leaves once settled. */
function track(list: Array<Promise<void>>, promise: Promise<void>): void {
  list.push(promise);
  void promise.finally(() => list.splice(list.indexOf(promise), 1));
}

function offsetsOf(batch: { partition: number; firstOffset: number; lastOffset: number }): string {
  return `partition ${batch.partition} offsets ${batch.firstOffset}-${batch.lastOffset}`;
}
