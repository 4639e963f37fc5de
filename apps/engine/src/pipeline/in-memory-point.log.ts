import { type PointBatch } from '@seismo/pipeline';
import { type PointProducer, type QueueBatch, type QueueMessage } from './point-queue';
import { PointQueueException, PointQueueExceptionCode } from './point-queue.exception';

export interface InMemoryPointLogOptions {
  readonly partitions: number;
  /** Most bytes of uncommitted messages one partition holds; `append` waits beyond it. */
  readonly maxPendingBytes: number;
  /**
   * The first offset of each partition (default 0). A restarted embedded server starts
   * past the offsets its checkpoints cover, so a new checkpoint is never older than an
   * earlier run's by offset.
   */
  readonly firstOffsets?: readonly number[];
}

interface PendingAppend {
  readonly value: Uint8Array;
  readonly decoded: PointBatch | undefined;
  readonly resolve: (offset: number) => void;
}

interface Partition {
  /** Uncommitted messages, oldest first: the first has offset `committed + 1`. */
  readonly messages: QueueMessage[];
  committed: number;
  nextOffset: number;
  pendingBytes: number;
  /**
   * Last offsets of the batches delivered and not yet committed, ascending. A batch
   * delivered again (after a handler failure or by a new consumer) is cut where it was
   * cut the first time, so it has the same offset range and therefore the same dedup
   * token: otherwise a replay that picked up more messages would write points twice.
   */
  cuts: number[];
  /** Appends waiting for room, in call order, which is also their offset order. */
  readonly waitingForRoom: PendingAppend[];
  /** Consumers waiting for a message. */
  readonly waitingForMessages: Set<() => void>;
}

/**
 * The state of the embedded queue: per partition, the messages not yet committed, the
 * last commit, and who waits. It outlives the consumers reading it, so a consumer that
 * stops or fails can be replaced by a new one that resumes after the last commit, as a
 * Kafka consumer group resumes after a crash. (It lives in the process: embedded mode
 * keeps uncommitted points only as long as the process runs.)
 *
 * Memory is bounded by `maxPendingBytes` per partition: committed messages are dropped
 * at once, and an append that does not fit waits for a commit to make room. (A message
 * kept with its decoded batch holds about twice its bytes: the same columns again, and
 * series names the producer holds anyway.)
 */
export class InMemoryPointLog implements PointProducer {
  readonly partitions: number;
  readonly maxPendingBytes: number;
  private readonly state: Partition[];
  private generation = 0;

  constructor(options: InMemoryPointLogOptions) {
    if (!Number.isInteger(options.partitions) || options.partitions < 1) {
      throw new RangeError(`partitions must be a positive integer, got ${options.partitions}`);
    }
    if (!Number.isInteger(options.maxPendingBytes) || options.maxPendingBytes < 1) {
      throw new RangeError(`maxPendingBytes must be a positive integer, got ${options.maxPendingBytes}`);
    }
    this.partitions = options.partitions;
    this.maxPendingBytes = options.maxPendingBytes;
    const firstOffsets = options.firstOffsets ?? [];
    if (
      firstOffsets.length > options.partitions ||
      !firstOffsets.every((offset) => Number.isSafeInteger(offset) && offset >= 0)
    ) {
      throw new RangeError(
        `firstOffsets must hold at most one non-negative integer per partition, got [${firstOffsets.join(', ')}]`,
      );
    }
    this.state = Array.from({ length: options.partitions }, (_, p) => ({
      messages: [],
      committed: (firstOffsets[p] ?? 0) - 1,
      nextOffset: firstOffsets[p] ?? 0,
      pendingBytes: 0,
      cuts: [],
      waitingForRoom: [],
      waitingForMessages: new Set<() => void>(),
    }));
  }

  async append(partition: number, value: Uint8Array, decoded?: PointBatch): Promise<number> {
    const part = this.partition(partition);
    if (value.byteLength > this.maxPendingBytes) {
      throw new PointQueueException(
        PointQueueExceptionCode.MESSAGE_TOO_LARGE,
        `a message of ${value.byteLength} bytes can never fit partition ${partition}, ` +
          `which holds at most ${this.maxPendingBytes} uncommitted bytes`,
      );
    }
    // Earlier appends still waiting go first, even if this one would fit: offsets follow call order.
    if (part.waitingForRoom.length === 0 && part.pendingBytes + value.byteLength <= this.maxPendingBytes) {
      return this.place(part, value, decoded);
    }
    return new Promise<number>((resolve) => part.waitingForRoom.push({ value, decoded, resolve }));
  }

  /** Registers a new consumer and fences every earlier one; returns its generation. */
  attach(): number {
    this.generation++;
    // Fenced consumers idle in waitForMessages would otherwise wait for the next append to notice.
    for (const part of this.state) wakeAll(part.waitingForMessages);
    return this.generation;
  }

  isCurrent(generation: number): boolean {
    return generation === this.generation;
  }

  committed(partition: number): number {
    return this.partition(partition).committed;
  }

  pendingBytes(partition: number): number {
    return this.partition(partition).pendingBytes;
  }

  /** Messages appended and not yet committed: the embedded counterpart of a consumer group's lag. */
  pendingMessages(partition: number): number {
    const part = this.partition(partition);
    return part.nextOffset - part.committed - 1;
  }

  /**
   * The batch that starts at `from` (or right after the last commit, if `from` is older):
   * the range it was first delivered with, or up to `maxMessages` new messages. Undefined
   * when the partition holds nothing from there on.
   */
  batchAt(partition: number, from: number, maxMessages: number): QueueBatch | undefined {
    const part = this.partition(partition);
    const start = Math.max(from, part.committed + 1);
    if (start >= part.nextOffset) return undefined;
    let end = part.cuts.find((cut) => cut >= start);
    if (end === undefined) {
      end = Math.min(start + maxMessages, part.nextOffset) - 1;
      part.cuts.push(end);
    }
    const base = part.committed + 1;
    return { partition, messages: part.messages.slice(start - base, end - base + 1) };
  }

  /** Resolves once the partition holds a message at or after `from`, or when `signal` aborts. */
  waitForMessages(partition: number, from: number, signal: AbortSignal): Promise<void> {
    const part = this.partition(partition);
    if (part.nextOffset > from || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        part.waitingForMessages.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      part.waitingForMessages.add(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  /**
   * Drops every message up to and including `offset` and admits waiting appends that now
   * fit. Committing an offset already committed changes nothing (a replayed batch does).
   */
  commit(partition: number, offset: number, generation: number): void {
    const part = this.partition(partition);
    if (!this.isCurrent(generation)) {
      throw new PointQueueException(
        PointQueueExceptionCode.FENCED,
        `commit of partition ${partition} offset ${offset} refused: a newer consumer took over the log`,
      );
    }
    if (!Number.isInteger(offset) || offset >= part.nextOffset) {
      throw new PointQueueException(
        PointQueueExceptionCode.OFFSET_OUT_OF_RANGE,
        `commit of partition ${partition} offset ${offset} refused: the partition holds offsets up to ${part.nextOffset - 1}`,
      );
    }
    if (offset <= part.committed) return;
    const dropped = part.messages.splice(0, offset - part.committed);
    for (const message of dropped) part.pendingBytes -= message.value.byteLength;
    part.committed = offset;
    while (part.cuts.length > 0 && part.cuts[0] <= offset) part.cuts.shift();
    while (part.waitingForRoom.length > 0) {
      const next = part.waitingForRoom[0];
      if (part.pendingBytes + next.value.byteLength > this.maxPendingBytes) break;
      part.waitingForRoom.shift();
      next.resolve(this.place(part, next.value, next.decoded));
    }
  }

  private place(part: Partition, value: Uint8Array, decoded: PointBatch | undefined): number {
    const offset = part.nextOffset++;
    part.messages.push(decoded ? { offset, value, decoded } : { offset, value });
    part.pendingBytes += value.byteLength;
    wakeAll(part.waitingForMessages);
    return offset;
  }

  private partition(partition: number): Partition {
    const part = Number.isInteger(partition) ? this.state[partition] : undefined;
    if (!part) {
      throw new PointQueueException(
        PointQueueExceptionCode.UNKNOWN_PARTITION,
        `partition ${partition} does not exist: the log has partitions 0..${this.partitions - 1}`,
      );
    }
    return part;
  }
}

function wakeAll(waiters: Set<() => void>): void {
  for (const wake of [...waiters]) wake();
}
