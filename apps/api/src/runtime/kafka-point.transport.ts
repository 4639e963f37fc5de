import { type SeismoConfig } from '@seismo/config';
import { consumerLag } from '@seismo/engine/pipeline/kafka-point.lag';
import { KafkaPointProducer } from '@seismo/engine/pipeline/kafka-point.producer';
import { KafkaPointQueue } from '@seismo/engine/pipeline/kafka-point.queue';
import {
  DEFAULT_DLQ_TOPIC,
  DEFAULT_POINTS_TOPIC,
  ensurePointTopics,
} from '@seismo/engine/pipeline/kafka-point.topics';
import { type PointConsumer, type PointProducer } from '@seismo/engine/pipeline/point-queue';
import { parseDedupToken } from '@seismo/storage';
import { type Admin } from 'kafkajs';
import { withDeadline } from './deadline';
import { createKafkaClient } from './kafka.client';
import { type BrokerStatus, type PointTransport } from './point.transport';

export interface KafkaTopicNames {
  /** Default `seismo.points`. */
  readonly points?: string;
  /** Default `seismo.dlq`. */
  readonly dlq?: string;
}

/** How long a health check or a lag figure may take before it counts as down. */
const PROBE_TIMEOUT_MS = 1500;
/** Lag is read at most this often: /health and /metrics may be polled hard. */
const LAG_CACHE_MS = 1000;

/**
 * Kafka mode: ingest produces to the points topic, the engine consumes it in the group
 * SEISMO_ENGINE_GROUP. Which of the two this process runs follows SEISMO_ROLE.
 *
 * Health checks and lag go through a client of their own that never retries and times out
 * fast, so a dead broker is reported within a second or two, while the producer and the
 * consumer keep retrying (an append waits out a broker restart).
 */
export class KafkaPointTransport implements PointTransport {
  readonly mode = 'kafka';
  private lagCache: { readonly at: number; readonly lag: Promise<readonly number[]> } | undefined;

  private constructor(
    readonly partitions: number,
    readonly producer: PointProducer | undefined,
    readonly consumer: PointConsumer | undefined,
    readonly source: string,
    private readonly topic: string,
    private readonly groupId: string,
    private readonly probe: Admin,
    private readonly release: () => Promise<void>,
  ) {}

  static async open(
    config: SeismoConfig,
    maxBatchMessages: number,
    topics: KafkaTopicNames = {},
  ): Promise<KafkaPointTransport> {
    const topic = topics.points ?? DEFAULT_POINTS_TOPIC;
    const kafka = createKafkaClient(config);
    const probe = createKafkaClient(config, {
      connectionTimeout: 1000,
      requestTimeout: PROBE_TIMEOUT_MS,
      retry: { retries: 0 },
    }).admin();
    await probe.connect();
    try {
      const admin = kafka.admin();
      await admin.connect();
      let clusterId: string;
      try {
        await ensurePointTopics(admin, {
          pointsTopic: topic,
          dlqTopic: topics.dlq ?? DEFAULT_DLQ_TOPIC,
          partitions: config.partitions,
        });
        ({ clusterId } = await admin.describeCluster());
      } finally {
        await admin.disconnect();
      }
      // Offsets start at 0 again in a new cluster or a topic made anew (a fresh local broker of
      // `npm run stack`, against a ClickHouse that kept last run's rows): the cluster id keeps their
      // dedup tokens apart. Checked now against the longest token, not at the first write.
      const source = `${clusterId}/${topic}`;
      parseDedupToken(
        `${source}/${config.partitions - 1}/${Number.MAX_SAFE_INTEGER}-${Number.MAX_SAFE_INTEGER}`,
      );

      if (config.role === 'api') {
        const producer = new KafkaPointProducer(kafka, { topic, partitions: config.partitions });
        await producer.connect();
        return new KafkaPointTransport(
          config.partitions,
          producer,
          undefined,
          source,
          topic,
          config.engineGroup,
          probe,
          () => producer.disconnect(),
        );
      }
      const queue = await KafkaPointQueue.connect(kafka, {
        topic,
        groupId: config.engineGroup,
        maxBatchMessages,
      });
      return new KafkaPointTransport(
        queue.partitions,
        // An engine-only process has the queue's producer connected too, but hands it to nobody.
        config.role === 'all' ? queue : undefined,
        queue,
        source,
        topic,
        config.engineGroup,
        probe,
        () => queue.close(),
      );
    } catch (error) {
      await probe.disconnect();
      throw error;
    }
  }

  async brokerStatus(): Promise<BrokerStatus> {
    const cluster = await withDeadline(this.probe.describeCluster(), PROBE_TIMEOUT_MS, 'the Kafka brokers');
    return { status: 'up', brokers: cluster.brokers.length, cluster_id: cluster.clusterId };
  }

  /** The engines' group lag on the points topic; only a process that runs the engine reports it. */
  get lag(): (() => Promise<readonly number[]>) | undefined {
    if (!this.consumer) return undefined;
    return () => {
      const now = Date.now();
      if (!this.lagCache || now - this.lagCache.at >= LAG_CACHE_MS) {
        const lag = withDeadline(
          consumerLag(this.probe, this.topic, this.groupId),
          PROBE_TIMEOUT_MS,
          'consumer lag',
        );
        lag.catch(() => undefined); // a failure is kept for the next callers of this second
        this.lagCache = { at: now, lag };
      }
      return this.lagCache.lag;
    };
  }

  async close(): Promise<void> {
    try {
      await this.release();
    } finally {
      await this.probe.disconnect();
    }
  }
}
