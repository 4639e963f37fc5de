import { Logger, type LoggerService } from '@nestjs/common';
import { type IngestLimits } from '@seismo/ingest';
import { describeCause, type TenantId } from '@seismo/storage';
import {
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type Kafka,
  type Message,
  type Producer,
} from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_DLQ_TOPIC, DEFAULT_POINTS_TOPIC } from '../pipeline/kafka-point.topics';
import { type InletMessage, InletBatchTranslator, type InletTranslation } from './inlet-batch.translator';
import { INLET_TOPIC_PATTERN, tenantOfInletTopic } from './inlet-topic';

export const DEFAULT_INLET_GROUP = 'seismo-inlet';

export interface TenantInletOptions {
  /**
   * The producer's transactional id: stable per process (e.g. `seismo-inlet-<host>`) and
   * unique among running inlets. A restarted process with the same id fences its previous
   * life and aborts the transaction it left open; a new id would leave that transaction to
   * time out, holding back every read-committed reader of the points topic meanwhile.
   */
  readonly transactionalId: string;
  /** Partitions of the points topic (ensurePointTopics checks the count). */
  readonly partitions: number;
  /**
   * Whether the tenant exists and is open (looking it up if this process does not know it
   * yet: see TenantDirectory.find); the topic of an unknown or closed one goes to the DLQ
   * whole. Called per batch.
   */
  readonly isKnownTenant: (tenant: TenantId) => boolean | Promise<boolean>;
  /** Default `seismo.points`. */
  readonly pointsTopic?: string;
  /** Default `seismo.dlq`. */
  readonly dlqTopic?: string;
  /** Default `seismo-inlet`. */
  readonly groupId?: string;
  /** The limits of `POST /v1/points`; default DEFAULT_INGEST_LIMITS. */
  readonly limits?: IngestLimits;
  /** How often to look for inlet topics created or deleted since (default 10 000 ms). */
  readonly topicRefreshMs?: number;
  /** Pause before a batch whose transaction failed is read again (default 1000 ms). */
  readonly retryDelayMs?: number;
  /** How long a fetch waits on an idle partition; also how long `stop` may wait (default 1000 ms). */
  readonly maxWaitTimeInMs?: number;
  readonly sessionTimeout?: number;
  readonly heartbeatInterval?: number;
  /** Bound on a produced message, below the broker's message.max.bytes (default 512 KiB). */
  readonly maxMessageBytes?: number;
  readonly logger?: Pick<LoggerService, 'log' | 'warn' | 'error'>;
}

/**
 * The direct producers' way in: relays the JSON points written to `seismo.in.<tenant>` to
 * the points topic, as `POST /v1/points` would queue them (InletBatchTranslator), for the
 * tenant the topic names.
 *
 * Effectively once. Each fetched batch of one inlet partition is relayed in one Kafka
 * transaction holding its point batches, its dead letters and the group's new offset for the
 * partition (`sendOffsets`): either all of it happens or none. After a crash, the producer of
 * the next life (same transactional id) aborts what was left open, and the batch is read
 * again from the committed offset; the engine reads the points topic read-committed (the
 * kafkajs default), so it never sees an aborted copy.
 *
 * A failed transaction is not retried in place: kafkajs cannot reuse a producer whose commit
 * or abort failed, and whether a commit whose answer was lost went through is only known to
 * the broker. So the producer is replaced (which settles the previous transaction either way),
 * the partition is read again from the group's committed offset, and the batch relayed anew.
 *
 * kafkajs matches a topic pattern only when it subscribes, so the inlet looks for new inlet
 * topics every `topicRefreshMs` and, when the set changed, subscribes a new consumer to it.
 *
 * Limits: kafkajs commits transactional offsets without the group generation (KIP-447), so a
 * member that lost its partition in a rebalance while its transaction was in flight is not
 * fenced by the group. Kafka waits for every member to rejoin before it hands a partition
 * over, and members rejoin only between batches, so this takes a member that stalled past
 * its session timeout mid-batch; its batch may then be relayed twice.
 */
export class TenantInlet {
  private readonly translator: InletBatchTranslator;
  private readonly pointsTopic: string;
  private readonly dlqTopic: string;
  private readonly groupId: string;
  private readonly topicRefreshMs: number;
  private readonly retryDelayMs: number;
  private readonly maxMessageBytes: number;
  private readonly logger: Pick<LoggerService, 'log' | 'warn' | 'error'>;
  private readonly admin: Admin;
  private readonly stopping = new AbortController();
  private producer: Producer | undefined;
  private consumer: Consumer | undefined;
  /** The inlet topics the consumer is subscribed to, sorted and joined: what a refresh compares. */
  private subscribed = '';
  /** Refreshes and stop, one after the other: each may replace the consumer. */
  private changes: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly kafka: Kafka,
    private readonly options: TenantInletOptions,
  ) {
    this.translator = new InletBatchTranslator({
      partitions: options.partitions,
      limits: options.limits,
      maxMessageBytes: options.maxMessageBytes,
    });
    this.pointsTopic = options.pointsTopic ?? DEFAULT_POINTS_TOPIC;
    this.dlqTopic = options.dlqTopic ?? DEFAULT_DLQ_TOPIC;
    this.groupId = options.groupId ?? DEFAULT_INLET_GROUP;
    this.topicRefreshMs = options.topicRefreshMs ?? 10_000;
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.maxMessageBytes = options.maxMessageBytes ?? 512 * 1024;
    for (const [name, value] of [
      ['topicRefreshMs', this.topicRefreshMs],
      ['retryDelayMs', this.retryDelayMs],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`${name} must be a positive integer, got ${value}`);
      }
    }
    if (options.transactionalId === '') throw new RangeError('transactionalId must not be empty');
    this.logger = options.logger ?? new Logger(TenantInlet.name);
    this.admin = kafka.admin();
  }

  /**
   * Starts relaying: settles what a previous life with the same transactional id left open,
   * then consumes the inlet topics that exist and keeps looking for new ones.
   */
  static async start(kafka: Kafka, options: TenantInletOptions): Promise<TenantInlet> {
    const inlet = new TenantInlet(kafka, options);
    try {
      await inlet.admin.connect();
      inlet.producer = await inlet.freshProducer();
      await inlet.refresh();
    } catch (error) {
      await inlet.stop().catch(() => undefined);
      throw error;
    }
    // unref: the refresh timer alone must not keep a finished process alive.
    inlet.timer = setInterval(() => inlet.refreshInBackground(), inlet.topicRefreshMs).unref();
    return inlet;
  }

  /** Stops consuming (a transaction in flight finishes) and closes every connection. */
  async stop(): Promise<void> {
    if (this.stopping.signal.aborted) return this.changes;
    this.stopping.abort();
    clearInterval(this.timer);
    this.changes = this.changes.then(async () => {
      await this.consumer?.disconnect();
      this.consumer = undefined;
      await this.producer?.disconnect();
      this.producer = undefined;
      await this.admin.disconnect();
    });
    return this.changes;
  }

  private refreshInBackground(): void {
    this.refresh().catch((error: unknown) =>
      this.logger.warn(`looking for inlet topics failed, trying again later: ${describeCause(error)}`),
    );
  }

  /** Subscribes a new consumer when the inlet topics are not those the current one reads. */
  private refresh(): Promise<void> {
    const change = this.changes.then(async () => {
      if (this.stopping.signal.aborted) return;
      const topics = (await this.admin.listTopics()).filter((t) => INLET_TOPIC_PATTERN.test(t)).sort();
      if (topics.join('\n') === this.subscribed) return;
      await this.consumer?.disconnect();
      this.consumer = undefined;
      this.subscribed = '';
      if (topics.length === 0) return;
      const consumer = this.kafka.consumer({
        groupId: this.groupId,
        maxWaitTimeInMs: this.options.maxWaitTimeInMs ?? 1000,
        sessionTimeout: this.options.sessionTimeout,
        heartbeatInterval: this.options.heartbeatInterval,
        // Read-committed (kafkajs' default, said here because it matters): a producer writing
        // its inlet topic in transactions is relayed only what it committed.
        readUncommitted: false,
        retry: {
          retries: 5, // kafkajs' default for consumers, which a `retry` option would otherwise replace
          // kafkajs restarts a crashed consumer (a broker gone) even while disconnect() runs.
          restartOnFailure: () => Promise.resolve(!this.stopping.signal.aborted),
        },
      });
      try {
        await consumer.connect();
        // The topics found, which the pattern matched: kafkajs would resolve a pattern once, here, too.
        await consumer.subscribe({ topics, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          // One batch at a time: a producer has one transaction open at most.
          partitionsConsumedConcurrently: 1,
          eachBatch: (payload) => this.relay(consumer, payload),
        });
      } catch (error) {
        // Nothing subscribed: the next refresh tries again from scratch.
        await consumer.disconnect().catch(() => undefined);
        throw error;
      }
      this.consumer = consumer;
      this.subscribed = topics.join('\n');
      this.logger.log(`relaying ${topics.length} inlet topic(s) to ${this.pointsTopic}`);
    });
    this.changes = change.catch(() => undefined);
    return change;
  }

  private async relay(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const messages = batch.messages as InletMessage[];
    if (messages.length === 0 || !isRunning() || isStale()) return;
    const source = { topic: batch.topic, partition: batch.partition };
    const last = messages[messages.length - 1].offset;
    let translation: InletTranslation;
    try {
      translation = await this.translate(source, messages);
    } catch (error) {
      // The tenant could not be looked up (ClickHouse unreachable): nothing is refused for that.
      this.logger.error(
        `looking up the tenant of ${source.topic} failed, reading it again: ${describeCause(error)}`,
      );
      await this.recover(consumer, source, messages[0].offset);
      return;
    }
    try {
      await this.commitInTransaction(source, translation, String(Number(last) + 1));
    } catch (error) {
      this.logger.error(
        `relaying ${source.topic} partition ${source.partition} offsets ${messages[0].offset}-${last} failed, ` +
          `reading it again from the last commit: ${describeCause(error)}`,
        error instanceof Error ? error.stack : undefined,
      );
      await this.recover(consumer, source, messages[0].offset);
      return;
    }
    if (translation.rejected > 0) {
      this.logger.warn(
        `${source.topic} partition ${source.partition} offsets ${messages[0].offset}-${last}: ` +
          `${translation.rejected} refused to ${this.dlqTopic}, ${translation.accepted} points relayed`,
      );
    }
    resolveOffset(last);
    await heartbeat();
  }

  private async translate(
    source: { topic: string; partition: number },
    messages: InletMessage[],
  ): Promise<InletTranslation> {
    const tenant = tenantOfInletTopic(source.topic);
    if (tenant === undefined) {
      return this.translator.refuse(source, messages, `topic ${source.topic}: not an inlet topic`);
    }
    if (!(await this.options.isKnownTenant(tenant))) {
      return this.translator.refuse(
        source,
        messages,
        `topic ${source.topic}: no open tenant has the id ${tenant}`,
      );
    }
    return this.translator.translate(tenant, source, messages);
  }

  private async commitInTransaction(
    source: { topic: string; partition: number },
    translation: InletTranslation,
    nextOffset: string,
  ): Promise<void> {
    const transaction = await this.producer!.transaction();
    try {
      for (const messages of requests(translation.points, this.maxMessageBytes)) {
        await transaction.send({ topic: this.pointsTopic, acks: -1, messages });
      }
      for (const messages of requests(translation.deadLetters, this.maxMessageBytes)) {
        await transaction.send({ topic: this.dlqTopic, acks: -1, messages });
      }
      await transaction.sendOffsets({
        consumerGroupId: this.groupId,
        topics: [{ topic: source.topic, partitions: [{ partition: source.partition, offset: nextOffset }] }],
      });
      await transaction.commit();
    } catch (error) {
      // Best effort: a producer whose transaction failed is replaced anyway, which aborts it.
      if (transaction.isActive()) await transaction.abort().catch(() => undefined);
      throw error;
    }
  }

  /**
   * After a failed transaction: a new producer (whose start settles the previous transaction,
   * committed or aborted), then the partition read again from the offset the group committed.
   */
  private async recover(
    consumer: Consumer,
    source: { topic: string; partition: number },
    firstOffset: string,
  ): Promise<void> {
    const signal = this.stopping.signal;
    await sleep(this.retryDelayMs, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) return; // the next life reads from the commit anyway
    try {
      const previous = this.producer;
      this.producer = await this.freshProducer();
      await previous?.disconnect().catch(() => undefined);
      const [committed] = await this.admin.fetchOffsets({ groupId: this.groupId, topics: [source.topic] });
      const offset = committed?.partitions.find((p) => p.partition === source.partition)?.offset;
      // No commit yet: this batch began where the group starts reading, the log's start.
      consumer.seek({
        ...source,
        offset: offset !== undefined && Number(offset) >= 0 ? offset : firstOffset,
      });
    } catch (error) {
      // Still failing: the batch is read again from where this consumer stands, and fails again or not.
      this.logger.error(`recovering the inlet's producer failed: ${describeCause(error)}`);
      consumer.seek({ ...source, offset: firstOffset });
    }
  }

  /** A connected transactional producer whose id is initialised, fencing any previous one. */
  private async freshProducer(): Promise<Producer> {
    const producer = this.kafka.producer({
      transactionalId: this.options.transactionalId,
      // kafkajs requires idempotence and one request in flight for transactions.
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    try {
      // kafkajs initialises the transactional id at the first transaction; an empty one sends
      // nothing but the initialisation, which aborts what a previous producer left open.
      const transaction = await producer.transaction();
      await transaction.abort();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    return producer;
  }
}

/**
 * `messages` cut into consecutive requests in which no partition gets more than `maxBytes`
 * (but at least one message): kafkajs puts one partition's messages of a request in one
 * record batch, which the broker refuses above message.max.bytes.
 */
function requests(messages: readonly Message[], maxBytes: number): Message[][] {
  const out: Message[][] = [];
  let current: Message[] = [];
  const bytes = new Map<number, number>();
  for (const message of messages) {
    const partition = message.partition ?? -1;
    const size = (message.value as Buffer).byteLength;
    const sum = (bytes.get(partition) ?? 0) + size;
    if (current.length > 0 && sum > maxBytes && bytes.has(partition)) {
      out.push(current);
      current = [];
      bytes.clear();
    }
    current.push(message);
    bytes.set(partition, (bytes.get(partition) ?? 0) + size);
  }
  if (current.length > 0) out.push(current);
  return out;
}
