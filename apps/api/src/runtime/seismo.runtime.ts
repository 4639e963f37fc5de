import { join } from 'node:path';
import { type SeismoConfig, type SeismoRole } from '@seismo/config';
import { BatchProcessor } from '@seismo/engine/pipeline/batch.processor';
import { ClickHouseSink } from '@seismo/engine/pipeline/clickhouse.sink';
import { EngineRunner } from '@seismo/engine/pipeline/engine.runner';
import { type PointConsumer, type PointProducer } from '@seismo/engine/pipeline/point-queue';
import {
  AnomalyRepository,
  ClickHouseConnection,
  Migrator,
  PointRepository,
  SeriesRepository,
} from '@seismo/storage';
import { resolveAdminToken, TenantDirectory } from '@seismo/tenancy';
import { HealthProbe } from '../health/health.probe';
import { ObservedSink } from '../metrics/observed.sink';
import { SeismoMetrics } from '../metrics/seismo.metrics';
import { EmbeddedPointTransport } from './embedded-point.transport';
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
    readonly metrics: SeismoMetrics,
    readonly health: HealthProbe,
    private readonly transport: PointTransport,
    private readonly engine: EngineRunner | undefined,
    /** Set when the admin token was made on this start: `serve` prints it once. */
    readonly generatedAdminToken: boolean,
  ) {}

  static async start(config: SeismoConfig, options: RuntimeOptions = {}): Promise<SeismoRuntime> {
    const connection = await ClickHouseConnection.open({
      ...(config.clickhouseUrl ? { url: config.clickhouseUrl } : {}),
      dataDir: join(config.dataDir, 'clickhouse'),
    });
    let transport: PointTransport | undefined;
    let tenants: TenantDirectory | undefined;
    try {
      await new Migrator(connection.client).migrate();
      tenants = await TenantDirectory.open(connection);
      const admin =
        config.role === 'engine'
          ? undefined
          : await resolveAdminToken({
              ...(config.adminToken ? { configured: config.adminToken } : {}),
              dataDir: config.dataDir,
            });
      transport = config.kafkaBrokers
        ? await KafkaPointTransport.open(config, MAX_BATCH_MESSAGES, options.topics)
        : new EmbeddedPointTransport(config.partitions, MAX_BATCH_MESSAGES);
      const points = new PointRepository(connection);
      const anomalies = new AnomalyRepository(connection);
      const metrics = new SeismoMetrics(transport);
      const engine = transport.consumer
        ? await startEngine(config, transport.consumer, transport.source, tenants, points, anomalies, metrics)
        : undefined;
      return new SeismoRuntime(
        config.role,
        connection,
        tenants,
        admin?.token,
        points,
        anomalies,
        new SeriesRepository(connection),
        metrics,
        new HealthProbe(connection.client, transport),
        transport,
        engine,
        admin?.generated ?? false,
      );
    } catch (error) {
      await transport?.close().catch(() => undefined);
      tenants?.close();
      await connection.close();
      throw error;
    }
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
    await this.engine?.stop();
    await this.transport.close();
    this.tenants.close();
    await this.connection.close();
  }
}

/** The engine: queue -> BatchProcessor -> ClickHouse (counted by the metrics) -> commit. */
async function startEngine(
  config: SeismoConfig,
  consumer: PointConsumer,
  source: string,
  tenants: TenantDirectory,
  points: PointRepository,
  anomalies: AnomalyRepository,
  metrics: SeismoMetrics,
): Promise<EngineRunner> {
  const processor = new BatchProcessor({
    retentionOf: (tenant) => tenants.retentionOf(tenant),
    anomalyThreshold: config.anomalyThreshold,
  });
  const engine = new EngineRunner(
    consumer,
    processor,
    new ObservedSink(new ClickHouseSink(points, anomalies, source), metrics),
  );
  await engine.start();
  return engine;
}
