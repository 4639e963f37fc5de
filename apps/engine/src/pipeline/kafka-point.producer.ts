import { type Kafka, KafkaJSProtocolError, Partitioners, type Producer } from 'kafkajs';
import { type PointProducer } from './point-queue';
import { PointQueueException, PointQueueExceptionCode } from './point-queue.exception';

export interface KafkaPointProducerOptions {
  readonly topic: string;
  /** The topic's partition count (ensurePointTopics checks it against the broker). */
  readonly partitions: number;
  /**
   * Most bytes of messages per produce request. Appends made together go in one request
   * (kafkajs does not linger, and a request per message caps throughput at the round
   * trip); below the broker's `message.max.bytes` (1 MiB by default), which bounds the
   * record batch of one partition. Default 512 KiB.
   */
  readonly maxRequestBytes?: number;
}

interface PendingAppend {
  readonly partition: number;
  readonly value: Buffer;
  readonly resolve: (offset: number) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Produces point batches to explicit partitions (the caller chose them with partitionOf, so
 * no key is needed: a key would only make the broker's and our partitioning disagree).
 *
 * `append` resolves once every in-sync replica has the message (acks = -1): the offset it
 * returns is durable. The producer is idempotent: a request retried after a lost answer is
 * not written twice, and with one request in flight the broker keeps the call order as the
 * offset order, as the embedded queue does.
 */
export class KafkaPointProducer implements PointProducer {
  readonly partitions: number;
  private readonly topic: string;
  private readonly maxRequestBytes: number;
  private readonly producer: Producer;
  private pending: PendingAppend[] = [];
  private flushing = false;

  constructor(kafka: Kafka, options: KafkaPointProducerOptions) {
    if (!Number.isInteger(options.partitions) || options.partitions < 1) {
      throw new RangeError(`partitions must be a positive integer, got ${options.partitions}`);
    }
    const maxRequestBytes = options.maxRequestBytes ?? 512 * 1024;
    if (!Number.isInteger(maxRequestBytes) || maxRequestBytes < 1) {
      throw new RangeError(`maxRequestBytes must be a positive integer, got ${maxRequestBytes}`);
    }
    this.topic = options.topic;
    this.partitions = options.partitions;
    this.maxRequestBytes = maxRequestBytes;
    // kafkajs requires one request in flight for idempotence; retries stay unlimited (its
    // default for idempotent producers), so an append waits out a broker restart.
    // The partitioner is named only to silence kafkajs' warning about its v2 default: every
    // message names its partition, so no partitioner ever runs.
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  /** Waits for appends already made, then closes the connections. */
  async disconnect(): Promise<void> {
    while (this.flushing || this.pending.length > 0) await this.flush();
    await this.producer.disconnect();
  }

  append(partition: number, value: Uint8Array): Promise<number> {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitions) {
      return Promise.reject(
        new PointQueueException(
          PointQueueExceptionCode.UNKNOWN_PARTITION,
          `partition ${partition} does not exist: topic ${this.topic} has partitions 0..${this.partitions - 1}`,
        ),
      );
    }
    return new Promise<number>((resolve, reject) => {
      // A view, not a copy: the contract says the caller does not change `value` afterwards.
      const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      this.pending.push({ partition, value: bytes, resolve, reject });
      // Appends made in the same turn of the event loop share a request.
      if (!this.flushing) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        let bytes = 0;
        let count = 0;
        // At least one message per request, however large: the broker judges it, not us.
        while (
          count < this.pending.length &&
          (count === 0 || bytes + this.pending[count].value.byteLength <= this.maxRequestBytes)
        ) {
          bytes += this.pending[count].value.byteLength;
          count++;
        }
        await this.send(this.pending.splice(0, count));
      }
    } finally {
      this.flushing = false;
    }
  }

  private async send(appends: PendingAppend[]): Promise<void> {
    try {
      const written = await this.producer.send({
        topic: this.topic,
        acks: -1,
        messages: appends.map(({ partition, value }) => ({ partition, value })),
      });
      // One record batch per partition: its messages got consecutive offsets from baseOffset, in request order.
      const next = new Map(written.map((meta) => [meta.partition, Number(meta.baseOffset)]));
      for (const append of appends) {
        const offset = next.get(append.partition)!;
        next.set(append.partition, offset + 1);
        append.resolve(offset);
      }
    } catch (error) {
      const failure = describeProduceError(error, this.topic, appends);
      for (const append of appends) append.reject(failure);
    }
  }
}

function describeProduceError(error: unknown, topic: string, appends: readonly PendingAppend[]): unknown {
  const cause = error instanceof Error && 'errors' in error ? (error.errors as unknown[])[0] : error;
  if (cause instanceof KafkaJSProtocolError && cause.type === 'MESSAGE_TOO_LARGE') {
    const largest = Math.max(...appends.map((append) => append.value.byteLength));
    return new PointQueueException(
      PointQueueExceptionCode.MESSAGE_TOO_LARGE,
      `topic ${topic} refused a request whose largest message has ${largest} bytes: ` +
        `above the broker's message.max.bytes (or this producer's maxRequestBytes is)`,
    );
  }
  return error;
}
