import { type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DEFAULT_DETECTOR } from '@seismo/detectors';
import { BatchProcessor } from '@seismo/engine/pipeline/batch.processor';
import { ClickHouseSink } from '@seismo/engine/pipeline/clickhouse.sink';
import { InMemoryPointLog } from '@seismo/engine/pipeline/in-memory-point.log';
import * as usageTallyModule from '@seismo/engine/pipeline/usage.tally';
import { UsageTally } from '@seismo/engine/pipeline/usage.tally';
import { decodePointBatch, partitionOf, type PointBatch } from '@seismo/pipeline';
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
const STEP_MS = 10_000;
const SOURCE = 'seismo.points';
/** Repetitions of each micro-benchmark over the run's requests, the best kept (least disturbed). */
const MICRO_ROUNDS = 5;

/**
 * What authentication, limits and metering cost on the ingest path, as an A/B of that
 * path in this process: `guarded` runs it as production does, `bare` has exactly those
 * calls replaced by no-ops here, in the harness. Nothing in the server can switch them
 * off: the swap is made on the objects this file builds, never by a flag production reads.
 *
 * The path, for each 1,000-point JSON body (the pipeline workload: 10,000 series of a
 * web fleet, encoded before the clock starts), through the real classes:
 *   ingest stage: TenantGuard.canActivate on the request's Authorization header (key
 *     shape, sha256, directory lookup, scope and role, last use noted) → IngestService
 *     .ingest (the real JSON decoder, inline as on 2 cores, TenantLimiter.admit and
 *     refuseNewSeries, the cut into partition messages) → the embedded queue
 *     (InMemoryPointLog);
 *   engine stage: each partition's batches of up to 256 messages → BatchProcessor.process
 *     (decode, score with the default detector, the tenant's series budget, UsageTally) →
 *     ClickHouseSink.write into embedded ClickHouse (points, anomalies, usage_hourly rows)
 *     → commit.
 * `bare`: no guard (the tenant is known), a TenantLimiter that admits everything,
 * BatchProcessor without `maxSeriesOf`, and a UsageTally that counts nothing and yields
 * no rows (so no usage INSERT). What stays in both arms, and so is not counted as the
 * overhead (the micro-benchmarks below measure it): IngestService's per-point series
 * array built for refuseNewSeries, and BatchProcessor's list of active series handed to
 * the tally; both are production code that the swap cannot reach without editing it.
 *
 * Left out of both arms, which makes the share larger than a user would see: HTTP and
 * Fastify's request handling, the anomaly feed, checkpoints. Each run pushes `points`
 * points, the series advancing from run to run; one untimed run first warms the JIT,
 * the detectors and ClickHouse. Figures: points/s of the whole path (the one the target
 * is judged on), of each stage, and, in the guarded arm, the micro-benchmarks' ns per
 * request or per point of each piece alone, over the same requests.
 */
export async function measureOverhead(config: OverheadConfig): Promise<Measurement> {
  const dir = await mkdtemp(join(tmpdir(), 'seismo-bench-overhead-'));
  let connection: ClickHouseConnection | undefined;
  let directory: TenantDirectory | undefined;
  let ingest: IngestService | undefined;
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
    const sink = new ClickHouseSink(
      new PointRepository(connection),
      new AnomalyRepository(connection),
      usage,
      SOURCE,
      new SeriesHourRepository(connection),
    );
    const generation = log.attach();

    const workload = new Workload(config.series, Date.now() - 86_400_000, STEP_MS);
    const runOnce = async (run: number): Promise<{ ingestSeconds: number; engineSeconds: number }> => {
      const from = run * config.points;
      const bodies: Buffer[] = [];
      for (let k = from; k < from + config.points; k += config.requestPoints) {
        bodies.push(
          Buffer.from(workload.jsonBody(k, Math.min(from + config.points, k + config.requestPoints))),
        );
      }
      const start = performance.now();
      for (const body of bodies) {
        const owner = guarded && guard.canActivate(context) ? identityOf(context) : tenant;
        const answer = await ingest!.ingest(owner, 'json', body);
        // A refused point would make the arms push different work.
        if (answer.rejected.length > 0) throw new Error(`ingest refused points: ${answer.rejected[0].error}`);
      }
      const ingested = performance.now();
      let stored = 0;
      for (let partition = 0; partition < PARTITIONS; partition++) {
        for (;;) {
          const batch = log.batchAt(partition, log.committed(partition) + 1, MAX_BATCH_MESSAGES);
          if (!batch) break;
          const processed = processor.process(batch);
          if (processed.deadLetters.length > 0)
            throw new Error(`the engine refused a message: ${processed.deadLetters[0].reason}`);
          await sink.write(processed);
          log.commit(partition, processed.lastOffset, generation);
          stored += processed.points.length;
        }
      }
      const done = performance.now();
      if (stored !== config.points) throw new Error(`the engine stored ${stored} of ${config.points} points`);
      return { ingestSeconds: (ingested - start) / 1000, engineSeconds: (done - ingested) / 1000 };
    };

    await runOnce(0);
    const total: number[] = [];
    const ingestRate: number[] = [];
    const engineRate: number[] = [];
    for (let run = 1; run <= config.runs; run++) {
      const { ingestSeconds, engineSeconds } = await runOnce(run);
      total.push(config.points / (ingestSeconds + engineSeconds));
      ingestRate.push(config.points / ingestSeconds);
      engineRate.push(config.points / engineSeconds);
      process.stderr.write(
        `${config.arm} run ${run}: ${Math.round(total[total.length - 1])} points/s ` +
          `(ingest ${ingestSeconds.toFixed(2)} s, engine ${engineSeconds.toFixed(2)} s)\n`,
      );
    }
    const figures: Record<string, Figure> = {
      pointsPerSecond: figure('points/s', total),
      ingestPointsPerSecond: figure('points/s', ingestRate),
      enginePointsPerSecond: figure('points/s', engineRate),
    };
    if (guarded) {
      const next = (config.runs + 1) * config.points;
      Object.assign(
        figures,
        await microBenchmarks({ workload, from: next, config, guard, context, tenant, directory, usage }),
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
        decodingThreads: 0,
      },
      figures,
      runs: config.runs,
    };
  } finally {
    await ingest?.onModuleDestroy();
    await directory?.close();
    await connection?.close();
    await rm(dir, { recursive: true, force: true });
  }
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
}

/**
 * Each piece alone, over one run's worth of requests (decoded here, before any clock):
 * where the guarded arm's extra time goes. Each is the best of MICRO_ROUNDS passes.
 */
async function microBenchmarks(input: MicroInput): Promise<Record<string, Figure>> {
  const { workload, from, config, guard, context, tenant, directory, usage } = input;
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
  const perPointArrays = perRequest.map(({ series, seriesIndex }) =>
    Array.from(seriesIndex, (i) => series[i]),
  );
  const buildArrays = best(() => {
    for (const { series, seriesIndex } of perRequest) Array.from(seriesIndex, (i) => series[i]);
  });
  const seriesBudget = best(() => {
    for (const perPoint of perPointArrays) limiter.refuseNewSeries(tenant, limits, perPoint);
  });
  const hashes = new Map<string, bigint>();
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
  // One usage row per batch, as the sink writes it: a partition's batch of a run, its share of the series.
  const rows = new UsageTally(hashes);
  const partitionSeries: string[] = [];
  for (let s = 0; s < workload.count; s++) {
    if (partitionOf(tenant, workload.name(s), PARTITIONS) === 0) partitionSeries.push(workload.name(s));
  }
  rows.scored(tenant, points / PARTITIONS, 0, partitionSeries);
  const batchRows = rows.records(now);
  const writes: number[] = [];
  for (let round = 0; round < MICRO_ROUNDS; round++) {
    const start = process.hrtime.bigint();
    await usage.insertBatch(batchRows, parseDedupToken(`seismo.bench-usage/0/${round}-${round}`));
    writes.push(Number(process.hrtime.bigint() - start));
  }
  const pointsPerBatch = points / PARTITIONS;
  return {
    authNsPerRequest: figure('ns/request', [auth / requests]),
    admitNsPerRequest: figure('ns/request', [admit / requests]),
    seriesBudgetNsPerPoint: figure('ns/point', [seriesBudget / points]),
    seriesArrayNsPerPoint: figure('ns/point', [buildArrays / points]),
    tallyNsPerPoint: figure('ns/point', [tally / points]),
    usageWriteNsPerPoint: figure('ns/point', [Math.min(...writes) / pointsPerBatch]),
  };
}

if (require.main === module) {
  reportMeasurement((argv) => measureOverhead(parseOverheadArguments(argv)));
}
