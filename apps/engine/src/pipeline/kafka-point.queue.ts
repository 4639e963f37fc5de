import {
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type Kafka,
  KafkaJSProtocolError,
  type KafkaMessage,
} from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { cutAt, decodeCuts, encodeCuts } from './kafka-point.cuts';
import { KafkaPointProducer } from './kafka-point.producer';
import { DEFAULT_POINTS_TOPIC } from './kafka-point.topics';
import { type PointQueue, type QueueBatch, type QueueHandler, type QueueMessage } from './point-queue';
import { PointQueueException, PointQueueExceptionCode } from './point-queue.exception';

export const DEFAULT_ENGINE_GROUP = 'seismo-engine';

export interface KafkaPointQueueOptions {
  /** Default `seismo.points`. */
  readonly topic?: string;
  /** Default `seismo-engine`. */
  readonly groupId?: string;
  /** Most messages per batch; batches never cross a multiple of it (see kafka-point.cuts.ts). */
  readonly maxBatchMessages: number;
  /** Pause before a batch whose handler failed is delivered again (default 1000 ms). */
  readonly retryDelayMs?: number;
  /**
   * How long a fetch waits on an idle partition. Also how long `stop` may wait for the
   * fetch in flight. Default 1000 ms (kafkajs: 5000).
   */
  readonly maxWaitTimeInMs?: number;
  readonly sessionTimeout?: number;
  readonly heartbeatInterval?: number;
  /**
   * How long a rebalance waits for every member to rejoin; a member whose handler is still
   * busy then is dropped from the group, and its commits are FENCED. kafkajs default 60 s.
   */
  readonly rebalanceTimeout?: number;
  /** Produce request size; see KafkaPointProducerOptions. */
  readonly maxRequestBytes?: number;
}

/** What this consumer knows of a partition it was assigned, for one assignment. */
interface PartitionState {
  /** The group's committed position (next offset to read); undefined until known. */
  committedNext: number | undefined;
  /** Partial cuts delivered and not yet committed, ascending (kafka-point.cuts.ts). */
  cuts: number[];
  /** Highest offset handed to the handler, for commit's range check. */
  lastDelivered: number;
  /** Offsets up to this one are delivered as replay batches (the handler asked for them); -1: none. */
  replayUntil: number;
  /** Where to seek before delivering anything: the first offset the handler asked for. */
  seekTo: number | undefined;
  /**
   * The commits of this partition in flight, one after the other: two OffsetCommits racing
   * could land out of order and move the committed position backwards.
   */
  commits: Promise<void>;
}

const FENCING_ERRORS = new Set([
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'REBALANCE_IN_PROGRESS',
  'FENCED_INSTANCE_ID',
]);

/**
 * The point queue over a Kafka topic: produce through KafkaPointProducer, consume as a member
 * of a consumer group with manual commits. Partitions run concurrently (one kafkajs batch per
 * partition at a time), each kafkajs batch is handed over as slices cut by offset alone, so a
 * redelivery has the same ranges and dedup tokens as the first delivery.
 *
 * A failed handler has its partition read again from the last commit, as the embedded queue
 * does. A consumer whose partition moved to another member (rebalance) or whose membership
 * ended is fenced: its commits are refused with FENCED.
 */
export class KafkaPointQueue implements PointQueue {
  readonly partitions: number;
  private readonly topic: string;
  private readonly groupId: string;
  private readonly maxBatchMessages: number;
  private readonly retryDelayMs: number;
  private readonly producer: KafkaPointProducer;
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly stopping = new AbortController();
  private running = false;
  private stopped: Promise<void> | undefined;
  /** Partitions of the current assignment; replaced at every group join. */
  private assignment = new Map<number, PartitionState>();
  /** The committed offsets and metadata of the current assignment, read once per join. */
  private restored: Promise<Map<number, { offset: number; metadata: string | null }>> | undefined;

  private constructor(kafka: Kafka, partitions: number, options: KafkaPointQueueOptions) {
    if (!Number.isInteger(options.maxBatchMessages) || options.maxBatchMessages < 1) {
      throw new RangeError(`maxBatchMessages must be a positive integer, got ${options.maxBatchMessages}`);
    }
    const retryDelayMs = options.retryDelayMs ?? 1000;
    if (!Number.isFinite(retryDelayMs) || retryDelayMs < 0) {
      throw new RangeError(`retryDelayMs must be a non-negative number, got ${retryDelayMs}`);
    }
    this.partitions = partitions;
    this.topic = options.topic ?? DEFAULT_POINTS_TOPIC;
    this.groupId = options.groupId ?? DEFAULT_ENGINE_GROUP;
    this.maxBatchMessages = options.maxBatchMessages;
    this.retryDelayMs = retryDelayMs;
    this.producer = new KafkaPointProducer(kafka, {
      topic: this.topic,
      partitions,
      maxRequestBytes: options.maxRequestBytes,
    });
    this.admin = kafka.admin();
    this.consumer = kafka.consumer({
      groupId: this.groupId,
      maxWaitTimeInMs: options.maxWaitTimeInMs ?? 1000,
      sessionTimeout: options.sessionTimeout,
      heartbeatInterval: options.heartbeatInterval,
      rebalanceTimeout: options.rebalanceTimeout,
      retry: {
        retries: 5, // kafkajs' default for consumers, which a `retry` option would otherwise replace
        // kafkajs restarts a crashed consumer (a broker gone) even while disconnect() runs, and the
        // restarted one would retry forever in a process that is shutting down.
        restartOnFailure: () => Promise.resolve(!this.stopping.signal.aborted),
      },
    });
  }

  /** Connects the producer and reads the topic's partition count; the topic must exist (ensurePointTopics). */
  static async connect(kafka: Kafka, options: KafkaPointQueueOptions): Promise<KafkaPointQueue> {
    const topic = options.topic ?? DEFAULT_POINTS_TOPIC;
    const admin = kafka.admin();
    await admin.connect();
    let partitions: number;
    try {
      partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.length;
    } finally {
      await admin.disconnect();
    }
    const queue = new KafkaPointQueue(kafka, partitions, options);
    await queue.producer.connect();
    return queue;
  }

  append(partition: number, value: Uint8Array): Promise<number> {
    return this.producer.append(partition, value);
  }

  async run(handler: QueueHandler): Promise<void> {
    if (this.running || this.stopped) {
      throw new PointQueueException(
        PointQueueExceptionCode.ALREADY_RUNNING,
        'this queue already ran; a restart takes a new queue over the same topic and group',
      );
    }
    this.running = true;
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      // A new generation: what this member knew of its partitions may be stale (another
      // member may have committed them meanwhile), so all of it is read again.
      const partitions = payload.memberAssignment[this.topic] ?? [];
      const gone = [...this.assignment.keys()].filter((p) => !partitions.includes(p));
      this.assignment = new Map(partitions.map((p) => [p, freshPartitionState()]));
      this.restored = undefined;
      // Partitions another member owns now: the handler may let go of what it holds for them.
      for (const partition of gone) handler.revoked?.(partition);
    });
    await this.admin.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.partitions,
      eachBatch: (payload) => this.deliver(payload, handler),
    });
  }

  async commit(partition: number, offset: number): Promise<void> {
    if (!this.running) {
      throw new PointQueueException(
        PointQueueExceptionCode.NOT_RUNNING,
        `commit of partition ${partition} offset ${offset} refused: the queue is not running`,
      );
    }
    const state = this.assignment.get(partition);
    if (!state || state.committedNext === undefined) {
      throw new PointQueueException(
        PointQueueExceptionCode.FENCED,
        `commit of partition ${partition} offset ${offset} refused: the partition is not assigned to this consumer any more`,
      );
    }
    if (!Number.isInteger(offset) || offset < 0 || offset > state.lastDelivered) {
      throw new PointQueueException(
        PointQueueExceptionCode.OFFSET_OUT_OF_RANGE,
        `commit of partition ${partition} offset ${offset} refused: this consumer delivered offsets up to ${state.lastDelivered}`,
      );
    }
    if (offset + 1 <= state.committedNext) return; // a replayed batch committing again
    state.committedNext = offset + 1;
    state.cuts = state.cuts.filter((cut) => cut > offset);
    await this.commitPosition(partition, state);
  }

  /** Stops consuming and leaves the group; resolves once no handler of this queue is running. */
  stop(): Promise<void> {
    this.stopping.abort();
    this.stopped ??= (async () => {
      await this.consumer.disconnect();
      // Out of the group: any commit from now on would be a stale member's.
      this.assignment = new Map();
      await this.admin.disconnect();
    })();
    return this.stopped;
  }

  /** Stops consuming, waits for appends already made, and closes every connection. */
  async close(): Promise<void> {
    await this.stop();
    await this.producer.disconnect();
  }

  private async deliver(payload: EachBatchPayload, handler: QueueHandler): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const partition = batch.partition;
    const messages = batch.messages;
    if (messages.length === 0) return;
    let state: PartitionState | undefined;
    try {
      // Restoring a partition's state can take a while: the group must not think this member dead.
      state = await whileHeartbeating(heartbeat, () => this.stateOf(partition, messages[0], handler));
    } catch {
      // The handler could not get ready for the partition (it reports why); nothing was
      // resolved, so after a pause the partition is fetched again and it is asked again.
      await whileHeartbeating(heartbeat, () =>
        sleep(this.retryDelayMs, undefined, { signal: this.stopping.signal }).catch(() => undefined),
      );
      return;
    }
    if (!state) return; // not ours any more: the next join says what is
    if (state.seekTo !== undefined) {
      // Nothing resolved: the next fetch of this partition starts where the handler asked.
      this.consumer.seek({ topic: this.topic, partition, offset: String(state.seekTo) });
      state.seekTo = undefined;
      return;
    }
    let index = 0;
    while (index < messages.length && isRunning() && !isStale() && !this.stopping.signal.aborted) {
      const start = Number(messages[index].offset);
      if (start <= state.replayUntil) {
        // Already taken: handed over in plain slices to rebuild state; nothing is cut or committed.
        let end = index;
        while (
          end + 1 < messages.length &&
          end + 1 - index < this.maxBatchMessages &&
          Number(messages[end + 1].offset) <= state.replayUntil
        ) {
          end++;
        }
        const replay: QueueBatch = {
          partition,
          messages: toQueueMessages(messages, index, end),
          replay: true,
        };
        try {
          await whileHeartbeating(heartbeat, () => handler.eachBatch(replay));
        } catch {
          // A half-replayed state is no state: ask the handler again where to start.
          this.assignment.set(partition, freshPartitionState());
          await whileHeartbeating(heartbeat, () =>
            sleep(this.retryDelayMs, undefined, { signal: this.stopping.signal }).catch(() => undefined),
          );
          return;
        }
        if (Number(messages[end].offset) >= state.replayUntil) state.replayUntil = -1;
        resolveOffset(messages[end].offset);
        index = end + 1;
        await heartbeat();
        continue;
      }
      const decision = cutAt(
        start,
        Number(messages[messages.length - 1].offset),
        state.cuts,
        this.maxBatchMessages,
      );
      // Not deliverable yet: nothing past `start` is resolved, so the next fetch reads from it again.
      if (decision.kind === 'wait') return;
      if (decision.record) {
        state.cuts.push(decision.end);
        // Recorded before the handler sees the batch, so a crash at any instant after it finds the cut.
        await this.commitPosition(partition, state);
      }
      let end = index;
      while (end + 1 < messages.length && Number(messages[end + 1].offset) <= decision.end) end++;
      const slice: QueueBatch = { partition, messages: toQueueMessages(messages, index, end) };
      state.lastDelivered = Math.max(state.lastDelivered, decision.end);
      try {
        await whileHeartbeating(heartbeat, () => handler.eachBatch(slice));
      } catch {
        // The handler reports its own failures; the queue's part is to read the partition
        // again from the last commit after a pause, as the embedded queue does.
        await whileHeartbeating(heartbeat, () =>
          sleep(this.retryDelayMs, undefined, { signal: this.stopping.signal }).catch(() => undefined),
        );
        // Stopping: the next member of the group resumes from the commit anyway.
        if (!this.stopping.signal.aborted) {
          this.consumer.seek({ topic: this.topic, partition, offset: String(state.committedNext) });
          // The handler may have learned part of what failed: it is asked again where to
          // start, with the group's commit read afresh.
          this.assignment.set(partition, freshPartitionState());
          this.restored = undefined;
        }
        return;
      }
      resolveOffset(messages[end].offset);
      index = end + 1;
      await heartbeat();
    }
  }

  /**
   * The state of a partition of the current assignment, its committed position and recorded
   * cuts read from the group on first use; undefined when the partition is not assigned.
   */
  private async stateOf(
    partition: number,
    first: KafkaMessage,
    handler: QueueHandler,
  ): Promise<PartitionState | undefined> {
    const state = this.assignment.get(partition);
    if (!state) return undefined;
    if (state.committedNext === undefined) {
      this.restored ??= this.fetchCommitted();
      let committed: { offset: number; metadata: string | null } | undefined;
      try {
        committed = (await this.restored).get(partition);
      } catch (error) {
        this.restored = undefined; // asked again on the next try, not failed for good
        throw error;
      }
      // Without a commit the group reads from the log's start, which is this first message.
      const next = committed && committed.offset >= 0 ? committed.offset : Number(first.offset);
      state.cuts = decodeCuts(committed?.metadata).filter((cut) => cut >= next);
      const from = handler.assigned ? await handler.assigned(partition, next) : next;
      if (!Number.isSafeInteger(from) || from < 0 || from > next) {
        throw new RangeError(
          `the handler asked partition ${partition} from offset ${from}, expected 0..${next}`,
        );
      }
      if (from < next) {
        state.replayUntil = next - 1;
        if (from !== Number(first.offset)) state.seekTo = from;
      }
      // Set last: a failure above leaves the partition to be asked about again.
      state.committedNext = next;
    }
    return state;
  }

  private async fetchCommitted(): Promise<Map<number, { offset: number; metadata: string | null }>> {
    const [topic] = await this.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] });
    return new Map(
      (topic?.partitions ?? []).map((p) => [p.partition, { offset: Number(p.offset), metadata: p.metadata }]),
    );
  }

  /**
   * Commits the partition's position and recorded cuts as they are when its turn comes, after
   * the commits already in flight: whichever lands last carries the newest state.
   */
  private commitPosition(partition: number, state: PartitionState): Promise<void> {
    const commit = state.commits.then(() => this.sendCommit(partition, state));
    state.commits = commit.catch(() => undefined);
    return commit;
  }

  private async sendCommit(partition: number, state: PartitionState): Promise<void> {
    const next = state.committedNext!;
    try {
      await this.consumer.commitOffsets([
        { topic: this.topic, partition, offset: String(next), metadata: encodeCuts(state.cuts) },
      ]);
    } catch (error) {
      const type = protocolErrorType(error);
      if (type !== undefined && FENCING_ERRORS.has(type)) {
        throw new PointQueueException(
          PointQueueExceptionCode.FENCED,
          `commit of partition ${partition} offset ${next - 1} refused: the group moved on (${type})`,
        );
      }
      throw error;
    }
  }
}

function freshPartitionState(): PartitionState {
  return {
    committedNext: undefined,
    cuts: [],
    lastDelivered: -1,
    replayUntil: -1,
    seekTo: undefined,
    commits: Promise.resolve(),
  };
}

function toQueueMessages(messages: readonly KafkaMessage[], first: number, last: number): QueueMessage[] {
  const out: QueueMessage[] = [];
  for (let i = first; i <= last; i++) {
    out.push({ offset: Number(messages[i].offset), value: messages[i].value ?? new Uint8Array(0) });
  }
  return out;
}

/**
 * Runs `work` while telling the group this member is alive: kafkajs heartbeats only when
 * asked, and a handler slower than the session timeout would otherwise lose its partitions
 * mid-batch. `heartbeat` is throttled by kafkajs to its heartbeatInterval; its failures
 * (a rebalance starting) surface at the next heartbeat awaited between slices.
 */
export async function whileHeartbeating<T>(
  heartbeat: () => Promise<void>,
  work: () => Promise<T>,
): Promise<T> {
  const timer = setInterval(() => void heartbeat().catch(() => undefined), 1000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** The broker's error code name, also when kafkajs wrapped it (retriers keep the last error as the cause). */
function protocolErrorType(error: unknown): string | undefined {
  for (let e: unknown = error; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if (e instanceof KafkaJSProtocolError) return e.type;
  }
  return undefined;
}
