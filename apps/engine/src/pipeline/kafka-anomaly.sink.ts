import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import { encodeAnomalyEvent } from './anomaly-event';
import { DEFAULT_ANOMALIES_TOPIC } from './kafka-point.topics';
import { type ProcessedBatch } from './processed-batch';
import { type BatchSink } from './sink';

export interface KafkaAnomalySinkOptions {
  /** Default `seismo.anomalies`. */
  readonly topic?: string;
}

/**
 * Publishes each anomaly of a batch to the anomalies topic for consumers outside the engine:
 * the value is the anomaly event (anomaly-event.ts), the key `<tenant>/<series>` so that one
 * series' anomalies stay in order on one partition, and a `tenant` header lets a consumer
 * route without parsing the value. `write` resolves once every in-sync replica has them
 * (acks = -1); a batch without anomalies sends nothing.
 *
 * At least once, not effectively once: Kafka cannot drop a message it already has the way
 * ClickHouse drops a repeated insert, so a batch written again (the runner's retry, a replay
 * after a crash before the commit) publishes its anomalies again, with the same ids, since
 * anomaly ids are derived from the anomaly. Consumers deduplicate by `id`. The idempotent
 * producer keeps a retried request from doubling them; a retry by the runner may not.
 */
export class KafkaAnomalySink implements BatchSink {
  private readonly topic: string;

  private constructor(
    private readonly producer: Producer,
    options: KafkaAnomalySinkOptions,
  ) {
    this.topic = options.topic ?? DEFAULT_ANOMALIES_TOPIC;
  }

  static async connect(kafka: Kafka, options: KafkaAnomalySinkOptions = {}): Promise<KafkaAnomalySink> {
    const producer = kafka.producer({
      // kafkajs requires one request in flight for idempotence.
      idempotent: true,
      maxInFlightRequests: 1,
      // murmur2 of the key, as the Java client partitions: producers in other languages
      // keying the same way agree with us. (Also silences kafkajs' v2 partitioner warning.)
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    return new KafkaAnomalySink(producer, options);
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  async write(batch: ProcessedBatch): Promise<void> {
    if (batch.anomalies.length === 0) return;
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: batch.anomalies.map((anomaly) => ({
        key: `${anomaly.tenantId}/${anomaly.series}`,
        value: encodeAnomalyEvent(anomaly),
        headers: { tenant: anomaly.tenantId },
      })),
    });
  }
}
