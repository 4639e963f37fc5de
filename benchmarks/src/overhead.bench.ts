import { type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DEFAULT_DETECTOR } from '@seismo/detectors';
import { BatchProcessor } from '@seismo/engine/pipeline/batch.processor';
import { ClickHouseSink } from '@seismo/engine/pipeline/clickhouse.sink';
import { EngineRunner } from '@seismo/engine/pipeline/engine.runner';
import { InMemoryPointLog } from '@seismo/engine/pipeline/in-memory-point.log';
import { InMemoryPointQueue } from '@seismo/engine/pipeline/in-memory-point.queue';
import { type ProcessedBatch } from '@seismo/engine/pipeline/processed-batch';
import { type BatchSink } from '@seismo/engine/pipeline/sink';
import { UsageCommitter, type UsageStore } from '@seismo/engine/pipeline/usage.committer';
import * as usageTallyModule from '@seismo/engine/pipeline/usage.tally';
import { SeriesHashCache, UsageTally } from '@seismo/engine/pipeline/usage.tally';
import { decodePointBatch, type PointBatch } from '@seismo/pipeline';
import {
  AnomalyRepository,
  ClickHouseConnection,
  Migrator,
  parseDedupToken,
  PointRepository,
  SeriesHourRepository,
  type TenantId,
  UsageRepository,
} from '@seismo/storage';
import { DEPLOYMENT_ADMIN, TenantDirectory } from '@seismo/tenancy';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { TenantGuard } from '../../apps/api/src/auth/tenant.guard';
import { IngestService } from '../../apps/api/src/ingest/ingest.service';
import { PointsController } from '../../apps/api/src/ingest/points.controller';
import { LimitReason } from '../../apps/api/src/limits/limit.reason';
import { LimitRejections } from '../../apps/api/src/limits/limit.rejections';
import { TenantLimiter } from '../../apps/api/src/limits/tenant.limiter';
import { SeismoMetrics } from '../../apps/api/src/metrics/seismo.metrics';
import { type SeismoRuntime } from '../../apps/api/src/runtime/seismo.runtime';
import { type OverheadConfig, parseOverheadArguments } from './arguments';
import { reportMeasurement } from './fork';
import { figure, type Figure, type Measurement } from './result';
import { Workload } from './workload';

/** Production's defaults: SEISMO_PARTITIONS, and the runtime's most messages per engine batch. */
const PARTITIONS = 4;
const MAX_BATCH_MESSAGES = 256;
/** Room for a whole run's messages: the engine stage drains them only after the ingest stage. */
const MAX_PENDING_BYTES = 1 << 30;
/** Requests in flight, as the pipeline benchmarks' default. */
const CONCURRENCY = 4;
const DRAIN_TIMEOUT_MS = 5 * 60_000;
const STEP_MS = 10_000;
const SOURCE = 'seismo.points';
/** Repetitions of each micro-benchmark over the run's requests, the best kept (least disturbed). */
const MICRO_ROUNDS = 5;

/**
 * What authentication, limits and metering cost on the ingest path, as an A/B of that
 * path in this process: `guarded` runs it as production does, `bare` has exactly those
 * calls replaced by no-ops here, in the harness. Nothing in the server can switch them
 * off: the swap is made on the objects this file builds, never by a flag production reads.
 * In-process rather than over HTTP so that the A/B needs no such switch, and so that
 * Fastify's per-request cost, the same in both arms, does not dilute the share.
 *
 * The path, as embedded mode runs it on 2 cores, through the real classes: each
 * 1,000-point JSON body (the pipeline workload: 10,000 series of a web fleet, encoded
 * before the clock starts), 4 in flight, goes through TenantGuard.canActivate on the
 * request's Authorization header (key shape, sha256, directory lookup, scope and role,
 * last use noted), then IngestService.ingest (the real JSON decoder, inline as the
 * default is on 2 cores; TenantLimiter.admit and refuseNewSeries; the cut into partition
 * messages) into the embedded queue (InMemoryPointLog). An EngineRunner over it, running
 * throughout as the server's does, takes each partition's batches (up to 256 messages)
 * through BatchProcessor.process (scoring with the default detector, the tenant's series
 * budget, UsageTally) and ClickHouseSink.write into embedded ClickHouse (points,
 * anomalies), scoring the next batch while one is written; the UsageCommitter writes the
 * usage of the batches written within its linger (500 ms) in one usage_hourly INSERT,
 * and the batches are committed after it.
 *
 * `bare`: no guard (the tenant is known), a TenantLimiter that admits everything,
 * BatchProcessor without `maxSeriesOf`, and a UsageTally that counts nothing and yields
 * no rows (so no usage INSERT; checked at the end of each process). What stays in both
 * arms, and so is not counted as the overhead: BatchProcessor's list of active series
 * handed to the tally, production code that the swap cannot reach without editing it.
 *
 * Left out of both arms, which makes the share larger than a user would see: HTTP and
 * Fastify's request handling, the anomaly feed, checkpoints (every 30 s: none would fall
 * in a run). Each run pushes `points` points, the series advancing from run to run; one
 * untimed run first warms the JIT, the detectors and ClickHouse. Figures: points/s
 * stored (the run's points all written; the one the target is judged on) and accepted
 * (the last 202), points per usage INSERT, and, in
 * the guarded arm, each piece alone over one more run's requests: ns per request or per
 * point.
 */
export async function measureOverhead(config: OverheadConfig): Promise<Measurement> {
  const dir = await mkdtemp(join(tmpdir(), 'seismo-bench-overhead-'));
  let connection: ClickHouseConnection | undefined;
  let directory: TenantDirectory | undefined;
  let ingest: IngestService | undefined;
  let stopEngine: (() => Promise<void>) | undefined;
  try {
    connection = await ClickHouseConnection.open({ dataDir: join(dir, 'clickhouse') });
    await new Migrator(connection.client).migrate();
    directory = await TenantDirectory.open(connection);
    // Enterprise: 500k points/s and a 5M burst, never reached here: every check runs, none refuses.
    const created = await directory.create(
      { name: 'bench', plan: 'enterprise' },
      { actor: DEPLOYMENT_ADMIN, sourceIp: '127.0.0.1' },
    );
    const tenant = created.tenant.id;
    const guarded = config.arm === 'guarded';
    if (!guarded) useCountingNothingTally();

    const log = new InMemoryPointLog({ partitions: PARTITIONS, maxPendingBytes: MAX_PENDING_BYTES });
    const metrics = new SeismoMetrics({ partitions: PARTITIONS });
    const limitListener = new LimitRejections(metrics);
    const tenants = directory;
    const limits = tenants.limitsOf(tenant);
    const runtime = {
      queue: log,
      tenants: guarded ? tenants : { limitsOf: () => limits },
      limitListener,
      metrics,
    } as unknown as SeismoRuntime;
    ingest = new IngestService(runtime, 0);
    if (!guarded) Object.defineProperty(ingest, 'limiter', { value: ADMIT_ALL });
    const guard = new TenantGuard(
      { adminToken: undefined, tenants } as unknown as SeismoRuntime,
      new Reflector(),
    );
    const context = pointsRouteContext(`Bearer ${created.apiKey}`);

    const processor = new BatchProcessor({
      retentionOf: (t) => tenants.retentionOf(t),
      ...(guarded
        ? {
            maxSeriesOf: (t: TenantId) => tenants.limitsOf(t).maxSeries,
            onSeriesRefused: (t: TenantId, count: number) =>
              limitListener.rejected(t, LimitReason.MAX_SERIES, 'engine', count),
          }
        : {}),
    });
    const usage = new UsageRepository(connection);
    const clickhouse = new ClickHouseSink(
      new PointRepository(connection),
      new AnomalyRepository(connection),
      SOURCE,
      new SeriesHourRepository(connection),
    );
    let stored = 0;
    let usageWrites = 0;
    let refusal: string | undefined;
    /** A real INSERT's usage rows, which the micro-benchmark writes again under tokens of its own. */
    let lastUsage: ProcessedBatch['usage'] = [];
    const sink: BatchSink = {
      write: async (batch: ProcessedBatch) => {
        // A refused point would make the arms do different work: noted, and the run fails after.
        refusal ??= batch.deadLetters[0]?.reason;
        await clickhouse.write(batch);
        stored += batch.points.length;
      },
    };
    const usageStore: UsageStore = {
      insertBatch: async (rows, token, marks) => {
        await usage.insertBatch(rows, token, marks);
        usageWrites++;
        lastUsage = rows;
      },
      writtenThrough: (source, partition) => usage.writtenThrough(source, partition),
    };
    // The embedded server's engine, running throughout as it does: scoring a partition's next
    // batch while the previous one is written. Checkpoints (every 30 s) would fall in no run.
    const engine = new EngineRunner(
      new InMemoryPointQueue(log, { maxBatchMessages: MAX_BATCH_MESSAGES }),
      processor,
      sink,
      {
        logger: { log: () => undefined, warn: warnToStderr, error: warnToStderr },
        usage: new UsageCommitter(usageStore, SOURCE, { logger: { error: warnToStderr } }),
      },
    );
    await engine.start();
    stopEngine = () => engine.stop();

    const workload = new Workload(config.series, Date.now() - 86_400_000, STEP_MS);
    const runOnce = async (run: number): Promise<{ acceptedSeconds: number; storedSeconds: number }> => {
      const from = run * config.points;
      const bodies: Buffer[] = [];
      for (let k = from; k < from + config.points; k += config.requestPoints) {
        bodies.push(
          Buffer.from(workload.jsonBody(k, Math.min(from + config.points, k + config.requestPoints))),
        );
      }
      const storedBefore = stored;
      const start = performance.now();
      let next = 0;
      // As the pipeline benchmarks' clients push: CONCURRENCY requests in flight.
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < bodies.length) {
            const body = bodies[next++];
            const owner = guarded && guard.canActivate(context) ? identityOf(context) : tenant;
            const answer = await ingest!.ingest(owner, 'json', body);
            if (answer.rejected.length > 0)
              throw new Error(`ingest refused points: ${answer.rejected[0].error}`);
          }
        }),
      );
      const accepted = performance.now();
      const deadline = accepted + DRAIN_TIMEOUT_MS;
      while (stored - storedBefore < config.points) {
        if (performance.now() > deadline)
          throw new Error(`the engine stored ${stored - storedBefore} of ${config.points} points`);
        await sleep(1);
      }
      const done = performance.now();
      if (refusal) throw new Error(`the engine refused a message: ${refusal}`);
      return { acceptedSeconds: (accepted - start) / 1000, storedSeconds: (done - start) / 1000 };
    };

    await runOnce(0);
    const storedRate: number[] = [];
    const acceptedRate: number[] = [];
    const writePoints: number[] = [];
    for (let run = 1; run <= config.runs; run++) {
      const writesBefore = usageWrites;
      const { acceptedSeconds, storedSeconds } = await runOnce(run);
      storedRate.push(config.points / storedSeconds);
      acceptedRate.push(config.points / acceptedSeconds);
      // A run's last INSERT may land after its points (the linger): counted in the next run.
      writePoints.push(config.points / Math.max(1, usageWrites - writesBefore));
      process.stderr.write(
        `${config.arm} run ${run}: ${Math.round(storedRate[storedRate.length - 1])} points/s stored ` +
          `(accepted in ${acceptedSeconds.toFixed(2)} s, stored in ${storedSeconds.toFixed(2)} s)\n`,
      );
    }
    await engine.stop();
    stopEngine = undefined;
    // The swap took, and only in the bare arm: the guarded arm metered every batch, the bare arm none.
    const usageRows = await count(connection, 'usage_hourly');
    if (guarded ? usageRows === 0 : usageRows > 0)
      throw new Error(`the ${config.arm} arm wrote ${usageRows} usage rows`);
    const figures: Record<string, Figure> = {
      pointsPerSecond: figure('points/s', storedRate),
      acceptedPointsPerSecond: figure('points/s', acceptedRate),
      // How many points share a usage INSERT (the bare arm writes none: the run's points).
      pointsPerUsageWrite: figure('points', writePoints),
    };
    if (guarded) {
      const next = (config.runs + 1) * config.points;
      Object.assign(
        figures,
        await microBenchmarks({
          workload,
          from: next,
          config,
          guard,
          context,
          tenant,
          directory,
          usage,
          usageRows: lastUsage,
          pointsPerUsageWrite: figures.pointsPerUsageWrite.mean,
        }),
      );
    }
    return {
      benchmark: 'overhead',
      detector: DEFAULT_DETECTOR,
      params: {
        arm: config.arm,
        points: config.points,
        series: config.series,
        requestPoints: config.requestPoints,
        partitions: PARTITIONS,
        concurrency: CONCURRENCY,
        decodingThreads: 0,
      },
      figures,
      runs: config.runs,
    };
  } finally {
    await stopEngine?.();
    await ingest?.onModuleDestroy();
    await directory?.close();
    await connection?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function warnToStderr(message: unknown): void {
  process.stderr.write(`engine: ${String(message)}\n`);
}

/** The bare arm's limiter: takes nothing, refuses nothing. */
const ADMIT_ALL: Pick<TenantLimiter, 'admit' | 'refuseNewSeries'> = {
  admit: () => undefined,
  refuseNewSeries: () => [],
};

/**
 * The bare arm's metering: BatchProcessor builds `new UsageTally(...)` per batch through its
 * module's export, so replacing the export here (in this process only) swaps every tally.
 */
function useCountingNothingTally(): void {
  class CountingNothing {
    ingested(): void {}
    rejected(): void {}
    scored(): void {}
    records(): [] {
      return [];
    }
  }
  Object.defineProperty(usageTallyModule, 'UsageTally', { value: CountingNothing });
  if ((usageTallyModule.UsageTally as unknown) !== CountingNothing)
    throw new Error('could not replace UsageTally: the bare arm would still meter');
}

type CallerRequest = { headers: { authorization: string }; identity?: { tenant: { id: TenantId } } };

/** What Nest hands the guard for `POST /v1/points`: the real route, so the real scope metadata. */
function pointsRouteContext(authorization: string): ExecutionContext {
  const request: CallerRequest = { headers: { authorization } };
  return {
    getHandler: () => PointsController.prototype.points,
    getClass: () => PointsController,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
}

function identityOf(context: ExecutionContext): TenantId {
  const identity = context.switchToHttp().getRequest<CallerRequest>().identity;
  if (!identity) throw new Error('the guard let the request through without an identity');
  return identity.tenant.id;
}

interface MicroInput {
  readonly workload: Workload;
  readonly from: number;
  readonly config: OverheadConfig;
  readonly guard: TenantGuard;
  readonly context: ExecutionContext;
  readonly tenant: TenantId;
  readonly directory: TenantDirectory;
  readonly usage: UsageRepository;
  /** A usage INSERT's rows as the engine wrote them, and the mean points one counts. */
  readonly usageRows: ProcessedBatch['usage'];
  readonly pointsPerUsageWrite: number;
}

/**
 * Each piece alone, over one run's worth of requests (decoded here, before any clock):
 * where the guarded arm's extra time goes. Each is the best of MICRO_ROUNDS passes.
 */
async function microBenchmarks(input: MicroInput): Promise<Record<string, Figure>> {
  const { workload, from, config, guard, context, tenant, directory, usage, usageRows, pointsPerUsageWrite } =
    input;
  const requests = Math.ceil(config.points / config.requestPoints);
  // The points of each request as the engine and the limiter see them: series name per point.
  const perRequest: Array<Pick<PointBatch, 'series' | 'seriesIndex'>> = [];
  const cutter = new InMemoryPointLog({ partitions: 1, maxPendingBytes: MAX_PENDING_BYTES });
  const decodeRuntime = {
    queue: cutter,
    tenants: directory,
    limitListener: new LimitRejections(new SeismoMetrics({ partitions: 1 })),
    metrics: new SeismoMetrics({ partitions: 1 }),
  } as unknown as SeismoRuntime;
  const decoder = new IngestService(decodeRuntime, 0);
  Object.defineProperty(decoder, 'limiter', { value: ADMIT_ALL });
  for (let r = 0; r < requests; r++) {
    const k = from + r * config.requestPoints;
    await decoder.ingest(tenant, 'json', Buffer.from(workload.jsonBody(k, k + config.requestPoints)));
  }
  const messages = cutter.batchAt(0, 0, Number.MAX_SAFE_INTEGER)?.messages ?? [];
  for (const message of messages) {
    const points = decodePointBatch(message.value);
    perRequest.push({ series: points.series, seriesIndex: points.seriesIndex });
  }
  await decoder.onModuleDestroy();
  const points = requests * config.requestPoints;
  const limits = directory.limitsOf(tenant);

  const best = (pass: () => void): number => {
    let fastest = Infinity;
    for (let round = 0; round < MICRO_ROUNDS; round++) {
      const start = process.hrtime.bigint();
      pass();
      fastest = Math.min(fastest, Number(process.hrtime.bigint() - start));
    }
    return fastest;
  };
  const auth = best(() => {
    for (let r = 0; r < requests; r++) guard.canActivate(context);
  });
  const limiter = new TenantLimiter({ rejected: () => undefined });
  const admit = best(() => {
    for (let r = 0; r < requests; r++)
      limiter.admit(tenant, directory.limitsOf(tenant), config.requestPoints);
  });
  const seriesBudget = best(() => {
    for (const batch of perRequest) limiter.refuseNewSeries(tenant, limits, batch);
  });
  const hashes = new SeriesHashCache();
  const now = Date.now();
  const tally = best(() => {
    const usageTally = new UsageTally(hashes);
    for (const { series, seriesIndex } of perRequest) {
      usageTally.ingested(tenant, seriesIndex.length);
      usageTally.rejected(tenant, 0);
      usageTally.scored(tenant, seriesIndex.length, 0, series);
    }
    usageTally.records(now);
  });
  const writes: number[] = [];
  for (let round = 0; round < MICRO_ROUNDS; round++) {
    const start = process.hrtime.bigint();
    await usage.insertBatch(usageRows, parseDedupToken(`seismo.bench-usage/0/${round}-${round}`));
    writes.push(Number(process.hrtime.bigint() - start));
  }
  return {
    authNsPerRequest: figure('ns/request', [auth / requests]),
    admitNsPerRequest: figure('ns/request', [admit / requests]),
    seriesBudgetNsPerPoint: figure('ns/point', [seriesBudget / points]),
    tallyNsPerPoint: figure('ns/point', [tally / points]),
    usageWriteNsPerPoint: figure('ns/point', [Math.min(...writes) / pointsPerUsageWrite]),
  };
}

async function count(connection: ClickHouseConnection, table: string): Promise<number> {
  const result = await connection.client.query({
    query: `SELECT count() AS n FROM ${table}`,
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ n: string }>();
  return Number(row.n);
}

if (require.main === module) {
  reportMeasurement((argv) => measureOverhead(parseOverheadArguments(argv)));
}
