import { join } from 'node:path';
import { type SeismoConfig, type SeismoRole } from '@seismo/config';
import { BatchProcessor } from '@seismo/engine/pipeline/batch.processor';
import { ClickHouseSink } from '@seismo/engine/pipeline/clickhouse.sink';
import { EngineRunner } from '@seismo/engine/pipeline/engine.runner';
import { type PointProducer } from '@seismo/engine/pipeline/point-queue';
import { TenantInlet } from '@seismo/engine/inlet/tenant-inlet.consumer';
import { FanOutSink } from '@seismo/engine/pipeline/fan-out.sink';
import { KafkaAnomalySink } from '@seismo/engine/pipeline/kafka-anomaly.sink';
import { KafkaDeadLetterSink } from '@seismo/engine/pipeline/kafka-dead-letter.sink';
import {
  DEFAULT_ANOMALIES_TOPIC,
  DEFAULT_DLQ_TOPIC,
  DEFAULT_POINTS_TOPIC,
} from '@seismo/engine/pipeline/kafka-point.topics';
import { type BatchSink } from '@seismo/engine/pipeline/sink';
import { UsageCommitter } from '@seismo/engine/pipeline/usage.committer';
import { hostname } from 'node:os';
import {
  AnomalyRepository,
  CheckpointRepository,
  ClickHouseConnection,
  Migrator,
  PointRepository,
  SeriesHourRepository,
  SeriesRepository,
  TenantDataRepository,
  type TenantId,
  UsageRepository,
} from '@seismo/storage';
import {
  DeliveryRepository,
  FeedbackDirectory,
  IncidentRepository,
  SubscriptionDirectory,
} from '@seismo/alerting';
import { type AlertingService } from '../alerting/alerting.service';
import { type AlertingParts, startAlerting } from '../alerting/alerting.start';
import { type AlertingHost, KafkaAlertingOwner } from '../alerting/kafka-alerting.owner';
import { type TriageScheduler } from '@seismo/llm';
import { resolveAdminToken, TenantDirectory, TenantEraser, TenantPurger } from '@seismo/tenancy';
import { inletTopicOf } from '@seismo/engine/inlet/inlet-topic';
import {
  BillingSendRepository,
  BillingWorker,
  StripeMeterGateway,
  TenantBillingRepository,
} from '@seismo/billing';
import { HealthProbe } from '../health/health.probe';
import { LimitReason } from '../limits/limit.reason';
import { LimitRejections } from '../limits/limit.rejections';
import { ObservedSink } from '../metrics/observed.sink';
import { SeismoMetrics } from '../metrics/seismo.metrics';
import { AnomalyFeed } from '../stream/anomaly.feed';
import { AnomalyTopicConsumer } from '../stream/anomaly-topic.consumer';
import { FeedSink } from '../stream/feed.sink';
import { EmbeddedPointTransport } from './embedded-point.transport';
import { createKafkaClient } from './kafka.client';
import { type KafkaTopicNames, KafkaPointTransport } from './kafka-point.transport';
import { type PointTransport } from './point.transport';

/**
 * Most messages per engine batch. Kafka cuts its batches at multiples of it (kafka-point.cuts.ts),
 * so every engine of a group must use the same figure, across upgrades too.
 */
const MAX_BATCH_MESSAGES = 256;

export interface RuntimeOptions {
  /** Kafka topic names (tests take fresh ones); default `seismo.points` and `seismo.dlq`. */
  readonly topics?: KafkaTopicNames;
}

/**
 * Everything `seismo serve` runs besides HTTP: ClickHouse (embedded or a server), the tenant
 * directory, the queue between ingest and the engine, and the engine. Embedded mode runs it
 * all in one process over an in-memory queue; Kafka mode (SEISMO_KAFKA_BROKERS) puts Kafka
 * in between, and SEISMO_ROLE picks the side this process runs: the same pipeline code either
 * way, only the queue differs.
 */
export class SeismoRuntime {
  private constructor(
    readonly role: SeismoRole,
    readonly connection: ClickHouseConnection,
    readonly tenants: TenantDirectory,
    /** Absent in an engine-only process, which serves no admin route. */
    readonly adminToken: string | undefined,
    readonly points: PointRepository,
    readonly anomalies: AnomalyRepository,
    readonly series: SeriesRepository,
    readonly usage: UsageRepository,
    readonly metrics: SeismoMetrics,
    readonly health: HealthProbe,
    private readonly transport: PointTransport,
    private readonly engine: Engine | undefined,
    private readonly feedConsumer: AnomalyTopicConsumer | undefined,
    /** Set when the admin token was made on this start: `serve` prints it once. */
    readonly generatedAdminToken: boolean,
    /** The live anomalies, for GET /v1/anomalies/stream: what the engine stored, as it stores it. */
    readonly feed: AnomalyFeed,
    /** Which Stripe customer each tenant bills to (PATCH /v1/tenants/{id} `billing`). */
    readonly billing: TenantBillingRepository,
    /** Sends usage to Stripe; absent without SEISMO_STRIPE_API_KEY and in an engine-only process. */
    private readonly billingWorker: BillingWorker | undefined,
    /** Every refusal by a tenant's limit is told here (metrics; metering may subscribe). */
    readonly limitListener: LimitRejections,
    /** Exports what a tenant has (GET /v1/tenants/{id}/export). */
    readonly tenantData: TenantDataRepository,
    /** Erases a tenant (DELETE /v1/tenants/{id}, and the purge of closed ones). */
    readonly eraser: TenantEraser,
    /** Erases closed tenants once their grace period is over; absent in an engine-only process. */
    private readonly purger: TenantPurger | undefined,
    /** Alert subscriptions and silences, in memory. */
    readonly subscriptions: SubscriptionDirectory,
    /** The alert outbox (GET /v1/deliveries). */
    readonly deliveries: DeliveryRepository,
    /** Incidents, routing and the dispatcher; absent in an engine-only process. */
    private readonly alerting: AlertingHost | undefined,
    /** Labels on anomalies, and what they teach the alert path. */
    readonly feedback: FeedbackDirectory,
    /**
     * USD per million LLM tokens in and out (SEISMO_LLM_PRICE_IN/OUT or the model's list
     * price), for GET /v1/usage's cost estimate in every API process, alerting or not;
     * absent without SEISMO_LLM_PROVIDER.
     */
    readonly llmPrice: { readonly inPerMillion: number; readonly outPerMillion: number } | undefined,
  ) {}

  static async start(config: SeismoConfig, options: RuntimeOptions = {}): Promise<SeismoRuntime> {
    const topics = options.topics ?? {};
    const connection = await ClickHouseConnection.open({
      ...(config.clickhouseUrl ? { url: config.clickhouseUrl } : {}),
      dataDir: join(config.dataDir, 'clickhouse'),
    });
    let transport: PointTransport | undefined;
    let tenants: TenantDirectory | undefined;
    let subscriptions: SubscriptionDirectory | undefined;
    let alerting: AlertingHost | undefined;
    let feedback: FeedbackDirectory | undefined;
    try {
      await new Migrator(connection.client).migrate();
      tenants = await TenantDirectory.open(connection, { reloadMs: config.tenantReloadMs });
      subscriptions = await SubscriptionDirectory.open(connection, tenants.auditLog, {
        reloadMs: config.tenantReloadMs,
        allowPrivateTargets: config.allowPrivateTargets,
      });
      const admin =
        config.role === 'engine'
          ? undefined
          : await resolveAdminToken({
              ...(config.adminToken ? { configured: config.adminToken } : {}),
              dataDir: config.dataDir,
            });
      const checkpoints = new CheckpointRepository(connection);
      transport = config.kafkaBrokers
        ? await KafkaPointTransport.open(config, MAX_BATCH_MESSAGES, topics)
        : await EmbeddedPointTransport.open(config.partitions, MAX_BATCH_MESSAGES, checkpoints);
      const points = new PointRepository(connection);
      const anomalies = new AnomalyRepository(connection);
      const usage = new UsageRepository(connection);
      const metrics = new SeismoMetrics(transport);
      const limitListener = new LimitRejections(metrics);
      const feed = new AnomalyFeed();
      const directory = tenants;
      const engine = transport.consumer
        ? await startEngine(config, transport, topics, {
            tenants: directory,
            points,
            anomalies,
            usage,
            checkpoints,
            metrics,
            feed,
            limitListener,
            connection,
          })
        : undefined;
      // In Kafka mode the engines publish to the anomalies topic, and each API process follows it.
      let feedConsumer: AnomalyTopicConsumer | undefined;
      if (config.kafkaBrokers && config.role !== 'engine') {
        feedConsumer = new AnomalyTopicConsumer(createKafkaClient(config), feed, {
          topic: topics.anomalies ?? DEFAULT_ANOMALIES_TOPIC,
        });
        await feedConsumer.start();
      }
      const billing = new TenantBillingRepository(connection);
      // In the API side only: nothing on the ingest or scoring path waits on it.
      let billingWorker: BillingWorker | undefined;
      if (config.billing && config.role !== 'engine') {
        billingWorker = new BillingWorker(
          usage,
          billing,
          new BillingSendRepository(connection),
          new StripeMeterGateway({
            apiKey: config.billing.stripeApiKey,
            ...(config.billing.stripeApiBase ? { apiBase: config.billing.stripeApiBase } : {}),
          }),
          {
            intervalMs: config.billing.intervalMs,
            closeDelayMs: config.billing.closeDelayMs,
            observe: (outcome, count = 1) => metrics.billingEvents.inc({ outcome }, count),
            completed: (at) => metrics.billingLastRun.set(at / 1000),
          },
        );
        billingWorker.start();
      }
      const tenantData = new TenantDataRepository(connection);
      const eraser = new TenantEraser(directory, tenantData, {
        ...(config.kafkaBrokers ? { eraseOutside: (tenant) => deleteInletTopic(config, tenant) } : {}),
      });
      let purger: TenantPurger | undefined;
      if (config.role !== 'engine') {
        purger = new TenantPurger(eraser, config.purgeIntervalMs);
        purger.start();
      }
      const deliveries = new DeliveryRepository(connection);
      feedback = await FeedbackDirectory.open(connection, directory.auditLog, {
        reloadMs: config.tenantReloadMs,
      });
      // In the API side only: the engine never waits on an alert.
      if (config.role !== 'engine') {
        const parts: Omit<AlertingParts, 'feed'> = {
          subscriptions,
          deliveries,
          incidents: new IncidentRepository(connection),
          tenants,
          usage,
          feedback,
          ...(admin ? { adminToken: admin.token } : {}),
          triage: { connection, tenants, points, anomalies },
        };
        alerting = config.kafkaBrokers
          ? await startAlertingOwner(config, topics, parts, metrics)
          : await startLocalAlerting(config, { ...parts, feed }, metrics);
      }
      return new SeismoRuntime(
        config.role,
        connection,
        tenants,
        admin?.token,
        points,
        anomalies,
        new SeriesRepository(connection),
        usage,
        metrics,
        new HealthProbe(connection.client, transport),
        transport,
        engine,
        feedConsumer,
        admin?.generated ?? false,
        feed,
        billing,
        billingWorker,
        limitListener,
        tenantData,
        eraser,
        purger,
        subscriptions,
        deliveries,
        alerting,
        feedback,
        config.llm
          ? { inPerMillion: config.llm.priceInPerMillion, outPerMillion: config.llm.priceOutPerMillion }
          : undefined,
      );
    } catch (error) {
      await alerting?.close().catch(() => undefined);
      feedback?.close();
      await transport?.close().catch(() => undefined);
      subscriptions?.close();
      await tenants?.close();
      await connection.close();
      throw error;
    }
  }

  /** LLM triage (undefined without SEISMO_LLM_PROVIDER, in an engine-only process, or while another process alerts). */
  get llm() {
    return this.alerting?.current?.llm;
  }

  /** The alerting path (undefined in an engine-only process, and in Kafka mode while another process alerts). */
  get alertingService() {
    return this.alerting?.current?.service;
  }

  /**
   * Where ingest reports what it accepted, for the no-data watch: embedded only. In Kafka
   * mode the alerting process reads the arrivals from the points topic (those of every API
   * process, and of the tenants' own topics).
   */
  get ingestArrivals(): Pick<AlertingService, 'watches' | 'seen'> | undefined {
    return this.transport.mode === 'embedded' ? this.alertingService : undefined;
  }

  /** Embedded (an in-process queue) or Kafka (SEISMO_KAFKA_BROKERS). */
  get mode(): 'embedded' | 'kafka' {
    return this.transport.mode;
  }

  /** Where ingest appends points; absent in an engine-only process (SEISMO_ROLE=engine). */
  get queue(): PointProducer | undefined {
    return this.transport.producer;
  }

  async close(): Promise<void> {
    await this.purger?.stop();
    this.eraser.close();
    await this.billingWorker?.stop();
    await this.feedConsumer?.stop();
    await this.engine?.stop();
    // After the engine: the anomalies of its last batches are routed before the outbox closes.
    await this.alerting?.close();
    this.feedback.close();
    await this.transport.close();
    this.subscriptions.close();
    // Before the connection closes: it stores when keys were last used.
    await this.tenants.close();
    await this.connection.close();
  }
}

interface EngineParts {
  readonly tenants: TenantDirectory;
  readonly points: PointRepository;
  readonly anomalies: AnomalyRepository;
  readonly usage: UsageRepository;
  readonly checkpoints: CheckpointRepository;
  readonly metrics: SeismoMetrics;
  readonly feed: AnomalyFeed;
  readonly limitListener: LimitRejections;
  readonly connection: ClickHouseConnection;
}

/** The engine and what it holds open besides the queue. */
interface Engine {
  stop(): Promise<void>;
}

/**
 * The engine: queue -> BatchProcessor -> sinks -> commit, with detector state checkpointed
 * per partition. Embedded, the sink is ClickHouse and the live feed. Over Kafka it is
 * ClickHouse, the anomalies topic and the dead-letter topic (the API processes follow the
 * anomalies topic), and the inlet relays the tenants' own topics into the points topic.
 */
async function startEngine(
  config: SeismoConfig,
  transport: PointTransport,
  topics: KafkaTopicNames,
  parts: EngineParts,
): Promise<Engine> {
  const { tenants, points, anomalies, usage, checkpoints, metrics, feed, limitListener } = parts;
  const processor = new BatchProcessor({
    retentionOf: (tenant) => tenants.retentionOf(tenant),
    anomalyThreshold: config.anomalyThreshold,
    // A tenant unknown here has its messages dead-lettered before any series is counted.
    maxSeriesOf: (tenant) =>
      tenants.get(tenant) ? tenants.limitsOf(tenant).maxSeries : Number.POSITIVE_INFINITY,
    onSeriesRefused: (tenant, count) =>
      limitListener.rejected(tenant, LimitReason.MAX_SERIES, 'engine', count),
  });
  metrics.observeEngine(processor);
  const usageCommitter = new UsageCommitter(usage, transport.source);
  // An erased tenant's detector state and waiting counts go at once, here or when this
  // process's next reload finds it gone.
  tenants.onGone((tenant) => {
    processor.forgetTenant(tenant);
    usageCommitter.forgetTenant(tenant);
  });
  const stored = new ObservedSink(
    new ClickHouseSink(points, anomalies, transport.source, new SeriesHourRepository(parts.connection)),
    metrics,
  );
  const opened: Array<{ disconnect(): Promise<void> } | { stop(): Promise<void> }> = [];
  const release = async () => {
    for (const part of opened.reverse()) await ('stop' in part ? part.stop() : part.disconnect());
  };
  try {
    let sink: BatchSink;
    if (config.kafkaBrokers) {
      const kafka = createKafkaClient(config);
      const anomalyTopic = await KafkaAnomalySink.connect(kafka, {
        topic: topics.anomalies ?? DEFAULT_ANOMALIES_TOPIC,
      });
      opened.push(anomalyTopic);
      const dlq = await KafkaDeadLetterSink.connect(kafka, {
        topic: topics.dlq ?? DEFAULT_DLQ_TOPIC,
        sourceTopic: transport.checkpointSource,
      });
      opened.push(dlq);
      sink = new FanOutSink({ clickhouse: stored, anomalies: anomalyTopic, dlq });
      opened.push(
        await TenantInlet.start(kafka, {
          // Stable across restarts of this process, so a restart aborts the transaction its
          // predecessor left open; unique per engine on one host (their ports differ).
          transactionalId: `seismo-inlet-${hostname()}-${config.port || process.pid}`,
          partitions: transport.partitions,
          isKnownTenant: async (tenant) => {
            const found = await tenants.find(tenant);
            return found !== undefined && found.closure === undefined;
          },
          ...(topics.points ? { pointsTopic: topics.points } : {}),
          ...(topics.dlq ? { dlqTopic: topics.dlq } : {}),
        }),
      );
    } else {
      // Outermost, so the feed announces only what ClickHouse has taken.
      sink = new FeedSink(stored, feed);
    }
    const runner = new EngineRunner(transport.consumer!, processor, sink, {
      refreshTenants: async (tenant) => void (await tenants.find(tenant)),
      usage: usageCommitter,
      checkpoints: {
        store: checkpoints,
        source: transport.checkpointSource,
        intervalMs: config.checkpointIntervalMs,
      },
    });
    await runner.start();
    return {
      stop: async () => {
        await runner.stop();
        await release();
      },
    };
  } catch (error) {
    await release();
    throw error;
  }
}

/**
 * Deletes an erased tenant's inlet topic (seismo.in.<tenant>), with whatever its producers
 * left there; a tenant that never had one is fine.
 */
async function deleteInletTopic(config: SeismoConfig, tenant: TenantId): Promise<void> {
  const admin = createKafkaClient(config).admin();
  await admin.connect();
  try {
    const topic = inletTopicOf(tenant);
    if ((await admin.listTopics()).includes(topic)) await admin.deleteTopics({ topics: [topic] });
  } finally {
    await admin.disconnect();
  }
}

/** Embedded: this process is the only one, and it alerts from the start. */
async function startLocalAlerting(
  config: SeismoConfig,
  parts: AlertingParts,
  metrics: SeismoMetrics,
): Promise<AlertingHost> {
  const running = await startAlerting(config, parts);
  if (running.llm) metrics.observeTriage(running.llm.scheduler);
  return { current: running, close: () => running.close() };
}

/**
 * Kafka mode: the API processes of the deployment elect one among them to alert
 * (KafkaAlertingOwner); this one alerts while it holds the lease. The LLM gauges read the
 * triage of its latest term, from its first on.
 */
async function startAlertingOwner(
  config: SeismoConfig,
  topics: KafkaTopicNames,
  parts: Omit<AlertingParts, 'feed'>,
  metrics: SeismoMetrics,
): Promise<AlertingHost> {
  let latest: TriageScheduler<unknown> | undefined;
  return KafkaAlertingOwner.start(createKafkaClient(config), {
    groupId: config.alertingGroup,
    anomaliesTopic: topics.anomalies ?? DEFAULT_ANOMALIES_TOPIC,
    pointsTopic: topics.points ?? DEFAULT_POINTS_TOPIC,
    start: async (feed, ready) => {
      const running = await startAlerting(config, { ...parts, feed, arrivalsReady: ready });
      if (running.llm) {
        if (!latest) {
          metrics.observeTriage({
            get counts() {
              return latest!.counts;
            },
            state: () => latest!.state(),
          });
        }
        latest = running.llm.scheduler;
      }
      return running;
    },
  });
}
