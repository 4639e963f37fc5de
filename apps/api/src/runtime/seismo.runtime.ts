import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type SeismoConfig } from '@seismo/config';
import { BatchProcessor } from '@seismo/engine/pipeline/batch.processor';
import { ClickHouseSink } from '@seismo/engine/pipeline/clickhouse.sink';
import { EngineRunner } from '@seismo/engine/pipeline/engine.runner';
import { InMemoryPointLog } from '@seismo/engine/pipeline/in-memory-point.log';
import { InMemoryPointQueue } from '@seismo/engine/pipeline/in-memory-point.queue';
import {
  AnomalyRepository,
  ClickHouseConnection,
  Migrator,
  PointRepository,
  SeriesRepository,
} from '@seismo/storage';
import { resolveAdminToken, TenantDirectory } from '@seismo/tenancy';
import { ObservedSink } from '../metrics/observed.sink';
import { SeismoMetrics } from '../metrics/seismo.metrics';
import { AnomalyFeed } from '../stream/anomaly.feed';
import { FeedSink } from '../stream/feed.sink';

/** Uncommitted bytes one partition of the embedded queue holds before ingest waits. */
const MAX_PENDING_BYTES = 64 * 1024 * 1024;
const MAX_BATCH_MESSAGES = 256;

/**
 * Everything `seismo serve` runs besides HTTP, in one process: ClickHouse (embedded or a
 * server), the tenant directory, the queue between ingest and the engine, and the engine
 * itself. The same pipeline code runs over Kafka in production; only the queue differs.
 */
export class SeismoRuntime {
  private constructor(
    readonly connection: ClickHouseConnection,
    readonly tenants: TenantDirectory,
    readonly adminToken: string,
    readonly queue: InMemoryPointLog,
    readonly points: PointRepository,
    readonly anomalies: AnomalyRepository,
    readonly series: SeriesRepository,
    readonly metrics: SeismoMetrics,
    private readonly engine: EngineRunner,
    /** Set when the admin token was made on this start: `serve` prints it once. */
    readonly generatedAdminToken: boolean,
    /** The live anomalies, for GET /v1/anomalies/stream: what the engine stored, as it stores it. */
    readonly feed: AnomalyFeed,
  ) {}

  static async start(config: SeismoConfig): Promise<SeismoRuntime> {
    const connection = await ClickHouseConnection.open({
      ...(config.clickhouseUrl ? { url: config.clickhouseUrl } : {}),
      dataDir: join(config.dataDir, 'clickhouse'),
    });
    try {
      await new Migrator(connection.client).migrate();
      const tenants = await TenantDirectory.open(connection);
      const admin = await resolveAdminToken({
        ...(config.adminToken ? { configured: config.adminToken } : {}),
        dataDir: config.dataDir,
      });
      const log = new InMemoryPointLog({ partitions: config.partitions, maxPendingBytes: MAX_PENDING_BYTES });
      const points = new PointRepository(connection);
      const anomalies = new AnomalyRepository(connection);
      const processor = new BatchProcessor({
        retentionOf: (tenant) => tenants.retentionOf(tenant),
        anomalyThreshold: config.anomalyThreshold,
      });
      const metrics = new SeismoMetrics(log);
      const feed = new AnomalyFeed();
      const engine = new EngineRunner(
        new InMemoryPointQueue(log, { maxBatchMessages: MAX_BATCH_MESSAGES }),
        processor,
        // Outermost, so the feed announces only what every sink inside has taken.
        new FeedSink(
          // The embedded log starts again at offset 0 on every start, so its dedup tokens name
          // this run: a new batch must not match the token of one written before a restart.
          new ObservedSink(
            new ClickHouseSink(points, anomalies, `embedded-${randomBytes(6).toString('hex')}`),
            metrics,
          ),
          feed,
        ),
      );
      await engine.start();
      return new SeismoRuntime(
        connection,
        tenants,
        admin.token,
        log,
        points,
        anomalies,
        new SeriesRepository(connection),
        metrics,
        engine,
        admin.generated,
        feed,
      );
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.engine.stop();
    this.tenants.close();
    await this.connection.close();
  }
}
