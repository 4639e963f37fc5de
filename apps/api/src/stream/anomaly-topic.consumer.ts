import { randomBytes } from 'node:crypto';
import { Logger, type LoggerService } from '@nestjs/common';
import { type AnomalyEvent, decodeAnomalyEvent } from '@seismo/engine/pipeline/anomaly-event';
import { DEFAULT_ANOMALIES_TOPIC } from '@seismo/engine/pipeline/kafka-point.topics';
import { type Consumer, type EachMessagePayload, type Kafka, type KafkaMessage } from 'kafkajs';
import { type AnomalyFeed } from './anomaly.feed';

export interface AnomalyTopicConsumerOptions {
  /** Default `seismo.anomalies`. */
  readonly topic?: string;
  /** Default `seismo-api-stream-<12 random hex digits>`: a group of this process alone. */
  readonly groupId?: string;
  /** How long a fetch waits on an idle partition, and so how long `stop` may wait (default 1000 ms). */
  readonly maxWaitTimeInMs?: number;
  readonly logger?: Pick<LoggerService, 'warn'>;
}

/**
 * Reads the `seismo.anomalies` topic into the feed, in Kafka mode, where the engine runs in
 * other processes. Every API process must see every anomaly (a tenant's dashboard may be
 * connected to any of them), so each reads the whole topic in a consumer group of its own.
 *
 * It starts at the end of the topic and commits nothing: the stream is live and has no
 * history (a dashboard reads the past from GET /v1/anomalies), and a group that never
 * commits leaves no offsets behind on the broker when the process goes away.
 *
 * A message that is not an anomaly event is logged and skipped; the stream goes on.
 */
export class AnomalyTopicConsumer {
  readonly groupId: string;
  private readonly topic: string;
  private readonly consumer: Consumer;
  private readonly logger: Pick<LoggerService, 'warn'>;
  private started = false;
  private stopped = false;

  constructor(
    kafka: Kafka,
    private readonly feed: AnomalyFeed,
    options: AnomalyTopicConsumerOptions = {},
  ) {
    this.topic = options.topic ?? DEFAULT_ANOMALIES_TOPIC;
    this.groupId = options.groupId ?? `seismo-api-stream-${randomBytes(6).toString('hex')}`;
    this.logger = options.logger ?? new Logger(AnomalyTopicConsumer.name);
    this.consumer = kafka.consumer({
      groupId: this.groupId,
      maxWaitTimeInMs: options.maxWaitTimeInMs ?? 1000,
      retry: {
        retries: 5, // kafkajs' default for consumers, which a `retry` option would otherwise replace
        // kafkajs restarts a crashed consumer (a broker gone) even while disconnect() runs.
        restartOnFailure: () => Promise.resolve(!this.stopped),
      },
    });
  }

  /**
   * Resolves once this process joined its group; events from then on reach the feed (those
   * produced while it was starting may not: the position is the end of the topic at the
   * first fetch).
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('this AnomalyTopicConsumer already started; make a new one');
    this.started = true;
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: false });
    await this.consumer.run({ autoCommit: false, eachMessage: (payload) => this.take(payload) });
  }

  /** Leaves the group and disconnects; safe to call when never started. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.disconnect();
  }

  private take({ partition, message }: EachMessagePayload): Promise<void> {
    const event = readAnomalyEvent(this.topic, partition, message, this.logger);
    if (event) this.feed.publish(event);
    return Promise.resolve();
  }
}

/**
 * The anomaly event a message of the anomalies topic holds; undefined (and a warning) for
 * one that holds none, which its reader skips: the topic goes on.
 */
export function readAnomalyEvent(
  topic: string,
  partition: number,
  message: Pick<KafkaMessage, 'offset' | 'value'>,
  logger: Pick<LoggerService, 'warn'>,
): AnomalyEvent | undefined {
  if (!message.value) {
    logger.warn(`${topic} partition ${partition} offset ${message.offset} skipped: no value`);
    return undefined;
  }
  try {
    return decodeAnomalyEvent(message.value);
  } catch (error) {
    logger.warn(
      `${topic} partition ${partition} offset ${message.offset} skipped: ${error instanceof Error ? error.message : String(error)}`,
    );
    return undefined;
  }
}
