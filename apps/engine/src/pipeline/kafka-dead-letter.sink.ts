import { type Kafka, type Producer } from 'kafkajs';
import { deadLetterMessage } from './dead-letter.message';
import { DEFAULT_DLQ_TOPIC, DEFAULT_POINTS_TOPIC } from './kafka-point.topics';
import { type ProcessedBatch } from './processed-batch';
import { type BatchSink } from './sink';

export interface KafkaDeadLetterSinkOptions {
  /** Default `seismo.dlq`. */
  readonly topic?: string;
  /** The topic the batches were read from, for the `source-topic` header. Default `seismo.points`. */
  readonly sourceTopic?: string;
}

/**
 * Produces each dead letter of a batch to the dead-letter topic: the message as it came, with
 * its reason and origin in the headers (dead-letter.message.ts). `write` resolves once every
 * in-sync replica has them (acks = -1); a batch without dead letters sends nothing.
 *
 * Not deduplicated: a batch written again (the runner's retry, a replay after a crash before
 * the commit) puts its letters again. The DLQ is read by people and tools that tell a repeat
 * by its `source-topic`/`source-partition`/`source-offset` headers; the idempotent producer
 * at least keeps a retried request from doubling them.
 */
export class KafkaDeadLetterSink implements BatchSink {
  private readonly topic: string;
  private readonly sourceTopic: string;

  private constructor(
    private readonly producer: Producer,
    options: KafkaDeadLetterSinkOptions,
  ) {
    this.topic = options.topic ?? DEFAULT_DLQ_TOPIC;
    this.sourceTopic = options.sourceTopic ?? DEFAULT_POINTS_TOPIC;
  }

  static async connect(kafka: Kafka, options: KafkaDeadLetterSinkOptions = {}): Promise<KafkaDeadLetterSink> {
    // kafkajs requires one request in flight for idempotence.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    return new KafkaDeadLetterSink(producer, options);
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  async write(batch: ProcessedBatch): Promise<void> {
    if (batch.deadLetters.length === 0) return;
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: batch.deadLetters.map((letter) =>
        deadLetterMessage(letter.value, letter.reason, {
          topic: this.sourceTopic,
          partition: letter.partition,
          offset: letter.offset,
        }),
      ),
    });
  }
}
