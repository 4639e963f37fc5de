import { type Admin } from 'kafkajs';

export const DEFAULT_POINTS_TOPIC = 'seismo.points';
export const DEFAULT_DLQ_TOPIC = 'seismo.dlq';
export const DEFAULT_ANOMALIES_TOPIC = 'seismo.anomalies';

/**
 * How long the points topic keeps a message: one day. The topic holds every tenant's raw
 * points, zero-retention tenants' included, so it should keep them no longer than the
 * engine needs them: until they are committed and checkpointed (SEISMO_CHECKPOINT_INTERVAL_MS,
 * 30 s by default), with room for an engine down overnight. Points are never read from the
 * topic after that; ClickHouse is the record.
 */
export const DEFAULT_POINTS_RETENTION_MS = 86_400_000;

export interface PointTopicsOptions {
  readonly pointsTopic?: string;
  readonly dlqTopic?: string;
  readonly anomaliesTopic?: string;
  /**
   * Partitions of the points topic; the engine's parallelism. The anomalies topic gets as
   * many, so its readers can scale as the engine does. The DLQ gets one: it is small and read
   * by people.
   */
  readonly partitions: number;
  readonly replicationFactor?: number;
  /** `retention.ms` of the points topic when this creates it (default DEFAULT_POINTS_RETENTION_MS). */
  readonly pointsRetentionMs?: number;
}

/**
 * Creates the points, dead-letter and anomalies topics when they are missing; existing topics
 * are left as they are (an operator changes a topic's retention with kafka-configs). The
 * points topic is created with a bounded retention (DEFAULT_POINTS_RETENTION_MS). A points topic with another partition count than asked is an error,
 * not something to fix here: adding partitions moves series (partitionOf is modulo the count)
 * and with them their detector state, which needs an operator's decision.
 */
export async function ensurePointTopics(admin: Admin, options: PointTopicsOptions): Promise<void> {
  const pointsTopic = options.pointsTopic ?? DEFAULT_POINTS_TOPIC;
  const dlqTopic = options.dlqTopic ?? DEFAULT_DLQ_TOPIC;
  const anomaliesTopic = options.anomaliesTopic ?? DEFAULT_ANOMALIES_TOPIC;
  if (!Number.isInteger(options.partitions) || options.partitions < 1) {
    throw new RangeError(`partitions must be a positive integer, got ${options.partitions}`);
  }
  const replicationFactor = options.replicationFactor ?? -1; // -1: the broker's default.
  const existing = new Set(await admin.listTopics());
  const missing = [
    {
      topic: pointsTopic,
      numPartitions: options.partitions,
      replicationFactor,
      configEntries: [
        { name: 'retention.ms', value: String(options.pointsRetentionMs ?? DEFAULT_POINTS_RETENTION_MS) },
      ],
    },
    { topic: dlqTopic, numPartitions: 1, replicationFactor },
    // Its partition count is not checked: anomalies are keyed by series and read by
    // consumers outside the engine, so another count moves no state of ours.
    { topic: anomaliesTopic, numPartitions: options.partitions, replicationFactor },
  ].filter(({ topic }) => !existing.has(topic));
  if (missing.length > 0) {
    // Another engine process may create them at the same moment: createTopics then answers
    // false for those (TOPIC_ALREADY_EXISTS is not thrown), which is as good as created.
    await admin.createTopics({ topics: missing, waitForLeaders: true });
  }
  const [metadata] = (await admin.fetchTopicMetadata({ topics: [pointsTopic] })).topics;
  if (metadata.partitions.length !== options.partitions) {
    throw new Error(
      `topic ${pointsTopic} has ${metadata.partitions.length} partitions, the engine is configured for ${options.partitions}`,
    );
  }
}
