import { Logger, type LoggerService } from '@nestjs/common';
import { whileHeartbeating } from '@seismo/engine/pipeline/kafka-point.queue';
import { decodePointBatch } from '@seismo/pipeline';
import { parseTenantId } from '@seismo/storage';
import { type Consumer, type EachBatchPayload, type Kafka } from 'kafkajs';
import { AnomalyFeed } from '../stream/anomaly.feed';
import { readAnomalyEvent } from '../stream/anomaly-topic.consumer';
import { type RunningAlerting } from './alerting.start';
import { arrivalsOf } from './arrivals';
import { singleOwnerAssigner } from './single-owner.assigner';

/** Where a process's alerting path runs, if it does: one process of a deployment at a time. */
export interface AlertingHost {
  /** The running alerting path; undefined while another process holds it (or before it started). */
  readonly current: RunningAlerting | undefined;
  close(): Promise<void>;
}

export interface KafkaAlertingOwnerOptions {
  /** The consumer group of the API processes that may alert (SEISMO_ALERTING_GROUP). */
  readonly groupId: string;
  readonly anomaliesTopic: string;
  readonly pointsTopic: string;
  /**
   * Starts the alerting path on `feed` once this process holds the lease, `ready` telling
   * whether the arrivals it is given are current (startAlerting's `arrivalsReady`).
   */
  readonly start: (feed: AnomalyFeed, ready: () => boolean) => Promise<RunningAlerting>;
  /** How long the group waits for a member that stopped heart-beating (kafkajs default 30 000 ms). */
  readonly sessionTimeout?: number;
  readonly heartbeatInterval?: number;
  /** How long a fetch waits on idle partitions (default 1000 ms). */
  readonly maxWaitTimeInMs?: number;
  readonly clock?: () => number;
  readonly logger?: Pick<LoggerService, 'log' | 'warn' | 'error'>;
}

/** A points partition is behind when its reader has unread messages written longer ago than this. */
const BEHIND_MS = 10_000;
/** No fetch answered for this long: the reader is stalled, its arrivals are not current. */
const STALLED_MS = 30_000;
/** Pause before the alerting path that failed to start is started again. */
const RESTART_DELAY_MS = 5000;
/** Partitions read at once (batches of one fetch still wait for each other in kafkajs). */
const PARTITIONS_AT_ONCE = 4;

/**
 * The alerting path in Kafka mode, where several API processes run: exactly one of them
 * alerts at a time, so an incident is told once and series of one host fold into one
 * notification. The API processes form the consumer group SEISMO_ALERTING_GROUP over the
 * anomalies topic and the points topic, and a single-owner assignor hands every partition
 * to one member: that member starts the alerting path (restoring the open incidents and
 * resuming the outbox), the others stand by. When the owner stops, it stops alerting (its
 * last writes land) and then leaves the group, and another takes over at once; when it
 * dies or stalls, after the session timeout (waits for triage heartbeat, so a slow LLM
 * does not cost the lease). A consumer that crashed or stopped has left the group: its
 * process stops alerting at once and claims nothing when kafkajs restarts it.
 *
 * Anomalies are read from the offsets the group committed, and a batch's offset is resolved
 * only once what it caused reached the outbox (its triage included): an anomaly stored
 * while no process alerted, or while the owner died, is taken by the next owner. At least
 * once: an anomaly read again joins its incident again, and its notifications have the
 * same ids, which the outbox keeps once.
 *
 * The points topic holds every accepted point, those of HTTP ingest and those the tenant
 * inlet relayed from `seismo.in.<tenant>`: the owner reads it for arrivals only (the newest
 * point of each series of a message, at the message's time), for the no-data watch of
 * tenants with a subscription. No series is declared silent while this reader is behind
 * (a partition with unread messages older than 10 s) or stalled (no fetch answered for 30
 * s): that silence would be the reader's.
 */
export class KafkaAlertingOwner implements AlertingHost {
  private readonly consumer: Consumer;
  private readonly clock: () => number;
  private readonly logger: Pick<LoggerService, 'log' | 'warn' | 'error'>;
  /** What the last assignment said: this member holds the partitions. */
  private owning = false;
  private running: RunningAlerting | undefined;
  private feed: AnomalyFeed | undefined;
  /** Take-overs and hand-overs, one at a time and in order. */
  private transition: Promise<void> = Promise.resolve();
  /** Points partitions whose last batch left them behind. */
  private readonly behind = new Set<number>();
  private lastFetchAt = 0;
  private stopped = false;

  private constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaAlertingOwnerOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.logger = options.logger ?? new Logger(KafkaAlertingOwner.name);
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      partitionAssigners: [singleOwnerAssigner(() => this.owning)],
      maxWaitTimeInMs: options.maxWaitTimeInMs ?? 1000,
      ...(options.sessionTimeout !== undefined ? { sessionTimeout: options.sessionTimeout } : {}),
      ...(options.heartbeatInterval !== undefined ? { heartbeatInterval: options.heartbeatInterval } : {}),
      retry: {
        retries: 5,
        // kafkajs restarts a crashed consumer (a broker gone) even while disconnect() runs.
        restartOnFailure: () => Promise.resolve(!this.stopped),
      },
    });
  }

  /** Joins the group; resolves once the consumer runs (whether this process holds the lease is up to the group). */
  static async start(kafka: Kafka, options: KafkaAlertingOwnerOptions): Promise<KafkaAlertingOwner> {
    const owner = new KafkaAlertingOwner(kafka, options);
    await owner.run();
    return owner;
  }

  get current(): RunningAlerting | undefined {
    return this.running;
  }

  /** Whether this process holds the lease now. */
  get owns(): boolean {
    return this.owning;
  }

  /**
   * Stops the alerting path while still holding the lease (its last writes land before
   * anyone else restores from them), then leaves the group: another process takes over
   * at once. A batch in flight meanwhile resolves nothing and is read again by the next owner.
   */
  async close(): Promise<void> {
    this.stopped = true;
    this.owning = false;
    this.transition = this.transition.then(() => this.handOver());
    await this.transition;
    await this.consumer.disconnect();
  }

  private async run(): Promise<void> {
    const { GROUP_JOIN, FETCH, CRASH, STOP } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, ({ payload }) => this.assigned(payload.memberAssignment));
    // A crashed or stopped consumer has left the group (kafkajs restarts a crashed one, which
    // joins again): from that instant another member may hold the lease, so this one stops
    // alerting at once and claims nothing when it rejoins.
    const lost = (): void => this.assigned({});
    this.consumer.on(CRASH, lost);
    this.consumer.on(STOP, lost);
    this.consumer.on(FETCH, () => {
      this.lastFetchAt = this.clock();
    });
    await this.consumer.connect();
    try {
      await this.consumer.subscribe({
        topics: [this.options.anomaliesTopic, this.options.pointsTopic],
        fromBeginning: false,
      });
      await this.consumer.run({
        autoCommit: true,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: PARTITIONS_AT_ONCE,
        eachBatch: (payload) => this.take(payload),
      });
    } catch (error) {
      this.stopped = true;
      await this.consumer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  private assigned(assignment: Record<string, readonly number[]>): void {
    const owns = Object.values(assignment).some((partitions) => partitions.length > 0);
    if (owns === this.owning) return;
    this.owning = owns;
    if (!owns) this.behind.clear();
    this.transition = this.transition.then(() => (owns ? this.takeOver() : this.handOver()));
  }

  /** Starts the alerting path; a failure is logged, and the next batch tries again. */
  private async takeOver(): Promise<void> {
    if (this.running || !this.owning || this.stopped) return;
    const feed = new AnomalyFeed();
    try {
      this.running = await this.options.start(feed, () => this.arrivalsCurrent());
      this.feed = feed;
      this.logger.log(`this process alerts now (group ${this.options.groupId})`);
    } catch (error) {
      this.logger.error(
        `starting the alerting path failed (tried again in ${RESTART_DELAY_MS} ms): ${error instanceof Error ? error.message : String(error)}`,
      );
      // Not only on the next batch: a quiet deployment may send none, and the lease would
      // then be held by a process that alerts nothing.
      setTimeout(() => {
        if (this.owning && !this.running && !this.stopped) {
          this.transition = this.transition.then(() => this.takeOver());
        }
      }, RESTART_DELAY_MS).unref();
      return;
    }
    await this.commitWhereUnread().catch((error: unknown) => {
      this.logger.warn(
        `the group's first offsets of ${this.options.anomaliesTopic} could not be committed: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  }

  /**
   * A partition of the anomalies topic the group never committed on (its first owner, or no
   * anomaly there yet) is read from its end, as of the first fetch. Committing that end now
   * makes the next owner start there too, so an anomaly written to it between two owners is
   * taken by the second one, not skipped as "before the end".
   */
  private async commitWhereUnread(): Promise<void> {
    const topic = this.options.anomaliesTopic;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId: this.options.groupId, topics: [topic] });
      const unread = new Set(committed.partitions.filter((p) => p.offset === '-1').map((p) => p.partition));
      if (unread.size === 0) return;
      const ends = await admin.fetchTopicOffsets(topic);
      await this.consumer.commitOffsets(
        ends
          .filter((p) => unread.has(p.partition))
          .map((p) => ({ topic, partition: p.partition, offset: p.high })),
      );
    } finally {
      await admin.disconnect();
    }
  }

  private async handOver(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    this.feed = undefined;
    await running.close().catch((error: unknown) => {
      this.logger.error(`stopping the alerting path failed: ${String(error)}`);
    });
    this.logger.log(`this process no longer alerts (group ${this.options.groupId})`);
  }

  /**
   * One batch of a partition this member holds. Nothing is resolved unless the alerting
   * path runs: a batch it could not take is read again, by this process or the next owner.
   */
  private async take({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    // Waits (a take-over, triage) heartbeat: a member silent past its session timeout is
    // evicted, and the lease with it.
    await whileHeartbeating(heartbeat, async () => {
      await this.transition;
      if (this.owning && !this.running) {
        this.transition = this.transition.then(() => this.takeOver());
        await this.transition;
      }
    });
    const running = this.running;
    const feed = this.feed;
    if (!running || !feed) {
      if (this.owning) throw new Error('the alerting path is not running; the batch is read again');
      return;
    }
    if (batch.isEmpty()) return;
    if (batch.topic === this.options.anomaliesTopic) {
      for (const message of batch.messages) {
        if (!isRunning() || isStale()) return;
        const event = readAnomalyEvent(batch.topic, batch.partition, message, this.logger);
        if (event) feed.publish(event);
      }
      // Resolved once each anomaly went through its triage and its notifications are in the
      // outbox, and only if this term still runs: one handed over meanwhile took them nowhere.
      await whileHeartbeating(heartbeat, () => running.service.triaged());
      if (this.running !== running) return;
    } else {
      const service = running.service;
      for (const message of batch.messages) {
        if (!isRunning() || isStale()) return;
        if (!message.value) continue;
        let points;
        try {
          points = decodePointBatch(message.value);
        } catch {
          continue; // the engine dead-letters it, with the reason
        }
        const tenant = parseTenantId(points.tenant);
        if (service.watches(tenant)) service.seen(tenant, arrivalsOf(points), Number(message.timestamp));
      }
      const newest = Number(batch.messages[batch.messages.length - 1].timestamp);
      if (Number(batch.offsetLag()) > 0 && this.clock() - newest > BEHIND_MS)
        this.behind.add(batch.partition);
      else this.behind.delete(batch.partition);
    }
    resolveOffset(batch.lastOffset());
    await heartbeat();
  }

  private arrivalsCurrent(): boolean {
    return this.owning && this.behind.size === 0 && this.clock() - this.lastFetchAt < STALLED_MS;
  }
}
