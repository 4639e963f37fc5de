import { loadConfig } from '@seismo/config';
import { DEFAULT_DETECTOR } from '@seismo/detectors';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { AnomalyWatch, POLL_INTERVAL_MS } from './anomaly-watch';
import { parseServerArguments, type ServerConfig } from './arguments';
import { BenchClient } from './bench-client';
import { type KafkaBroker, startBenchBroker } from './bench-broker';
import { reportMeasurement } from './fork';
import { latencyPlan } from './latency-plan';
import { figure, type Figure, type Measurement } from './result';
import { percentile } from './statistics';
import { serve } from '../../apps/api/src/serve';
import { PROBE_METRIC, probeJson, probeName, Workload } from './workload';

const DAY_MS = 86_400_000;
const STEP_MS = 10_000;
/** Requests of the paced phase: small and frequent, as a fleet of agents pushes. */
const LATENCY_REQUEST_POINTS = 1000;
const SPIKES_PER_SECOND = 10;
/** Steady points each probe gets before its spike: the ensemble is past warm-up at 200. */
const PROBE_WARM_SAMPLES = 400;
/**
 * Paced requests unanswered at once: beyond it the server is not keeping up, and the next
 * request waits for an answer (the load falls below the rate asked, which the run reports)
 * rather than piling up sockets without bound.
 */
const MAX_IN_FLIGHT = 256;
const DRAIN_POLL_MS = 50;
const DRAIN_TIMEOUT_MS = 10 * 60_000;
/** How long after the last spike was accepted its anomaly may take before it counts as missed. */
const SPIKE_TIMEOUT_MS = 30_000;
const POINTS_TOPIC = 'seismo.points';

/**
 * Seismo as users run it, in this process: `serve()` with embedded ClickHouse in a temporary
 * directory, and either the embedded queue or, in `kafka` mode, Kafka between ingest and the
 * engine (SEISMO_KAFKA_BROKERS, SEISMO_ROLE=all) on a broker started for the run.
 *
 * Throughput: `points` points of `series` series are pushed as `POST /v1/points` bodies of
 * `requestPoints` (encoded before the clock starts), `concurrency` requests at a time, as
 * fast as the server answers. Accepted points/s runs to the last 202; stored points/s to
 * the moment the engine's stored counter (GET /metrics) reaches them all.
 *
 * Latency: then `latencyRate` points/s for `latencySeconds`, paced, with spikes in probe
 * series warmed beforehand; each spike's latency runs from its request's 202 to its anomaly
 * being visible to a client (the live stream when the server has it, else polling).
 */
export async function measureServer(config: ServerConfig): Promise<Measurement> {
  const dir = await mkdtemp(join(tmpdir(), 'seismo-bench-server-'));
  let broker: KafkaBroker | undefined;
  let server: Awaited<ReturnType<typeof serve>> | undefined;
  try {
    if (config.mode === 'kafka') broker = await startBenchBroker();
    const adminToken = randomBytes(24).toString('hex');
    server = await serve(
      loadConfig({
        SEISMO_PORT: '0',
        SEISMO_HOST: '127.0.0.1',
        SEISMO_LOG_LEVEL: 'warn',
        SEISMO_DATA_DIR: dir,
        SEISMO_ADMIN_TOKEN: adminToken,
        ...(broker ? { SEISMO_KAFKA_BROKERS: broker.brokers.join(','), SEISMO_ROLE: 'all' } : {}),
      }),
    );
    if (broker) await assertKafkaMode(broker);
    const client = new BenchClient(server.url);
    await client.createTenant(adminToken, 'bench');

    const now = Date.now();
    const workload = new Workload(config.series, now - DAY_MS, STEP_MS);
    const throughput = await measureThroughput(client, workload, config);
    const latency =
      config.latencySeconds > 0 ? await measureLatency(client, workload, config, now) : undefined;
    return {
      benchmark: config.mode === 'kafka' ? 'end-to-end' : 'embedded',
      detector: DEFAULT_DETECTOR,
      params: {
        points: config.points,
        series: config.series,
        requestPoints: config.requestPoints,
        concurrency: config.concurrency,
        latencyRate: config.latencyRate,
        latencySeconds: config.latencySeconds,
        // Polling adds up to its interval to every latency: such figures compare only with their own kind.
        ...(latency ? { latencyWatch: latency.watch } : {}),
      },
      figures: { ...throughput, ...latency?.figures },
      runs: 1,
    };
  } finally {
    await server?.close();
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function measureThroughput(
  client: BenchClient,
  workload: Workload,
  config: ServerConfig,
): Promise<Record<string, Figure>> {
  const bodies: Buffer[] = [];
  for (let from = 0; from < config.points; from += config.requestPoints) {
    bodies.push(Buffer.from(workload.jsonBody(from, Math.min(config.points, from + config.requestPoints))));
  }
  const storedBefore = await client.storedPoints();
  const start = performance.now();
  const cpuBefore = process.cpuUsage();
  const mainBefore = mainThreadCpuMicros();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(config.concurrency, bodies.length) }, async () => {
      while (next < bodies.length) await client.push(bodies[next++]);
    }),
  );
  const acceptedSeconds = (performance.now() - start) / 1000;
  process.stderr.write(`accepted ${config.points} points in ${acceptedSeconds.toFixed(1)} s\n`);
  await drained(client, storedBefore + config.points);
  const storedSeconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const mainAfter = mainThreadCpuMicros();
  return {
    acceptedPointsPerSecond: figure('points/s', [config.points / acceptedSeconds]),
    storedPointsPerSecond: figure('points/s', [config.points / storedSeconds]),
    // Every thread of the process (sender, server, engine, ClickHouse; the broker runs
    // apart): far steadier between runs than the rates, so it settles a before-and-after.
    cpuMicrosecondsPerPoint: figure('µs', [(cpu.user + cpu.system) / config.points]),
    // The event loop's thread alone, where ingest and scoring run: the one that saturates first.
    ...(mainBefore !== undefined && mainAfter !== undefined
      ? { mainThreadCpuMicrosecondsPerPoint: figure('µs', [(mainAfter - mainBefore) / config.points]) }
      : {}),
  };
}

/**
 * CPU time of the calling (main) thread so far, in microseconds, from Linux's
 * /proc/thread-self/stat (utime and stime, in ticks of 1/100 s, the USER_HZ of every
 * Linux build Node runs on); undefined elsewhere. Node 20 has no per-thread CPU clock.
 */
function mainThreadCpuMicros(): number | undefined {
  let stat: string;
  try {
    stat = readFileSync('/proc/thread-self/stat', 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name in parentheses (which may hold spaces): state is field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[14 - 3]) + Number(fields[15 - 3]);
  return Number.isFinite(ticks) ? ticks * 10_000 : undefined;
}

async function measureLatency(
  client: BenchClient,
  workload: Workload,
  config: ServerConfig,
  now: number,
): Promise<{ figures: Record<string, Figure>; watch: string }> {
  const plan = latencyPlan({
    rate: config.latencyRate,
    seconds: config.latencySeconds,
    requestPoints: LATENCY_REQUEST_POINTS,
    spikesPerSecond: SPIKES_PER_SECOND,
  });
  // Probes live two hours back, a day after the fleet's points: their spikes have a time of their own.
  const probeStart = now - 2 * 3_600_000;
  const spikeTs = probeStart + PROBE_WARM_SAMPLES * 1000;

  // Warm every probe, and wait until the engine has stored it all: the spikes then meet warm detectors.
  const warm: string[] = [];
  for (let sample = 0; sample < PROBE_WARM_SAMPLES; sample++) {
    for (let probe = 0; probe < plan.probes; probe++) warm.push(probeJson(probe, sample, probeStart, false));
  }
  let stored = await client.storedPoints();
  for (let from = 0; from < warm.length; from += config.requestPoints) {
    await client.push(Buffer.from(`{"points":[${warm.slice(from, from + config.requestPoints).join(',')}]}`));
  }
  stored += warm.length;
  await drained(client, stored);

  // The fleet's points go on where the throughput phase left them; each spike replaces one.
  const bodies: Buffer[] = [];
  let k = config.points;
  for (let j = 0; j < plan.requests; j++) {
    const spike = j % plan.spikeEvery === 0;
    const fleet = LATENCY_REQUEST_POINTS - (spike ? 1 : 0);
    const extra = spike ? [probeJson(j / plan.spikeEvery, PROBE_WARM_SAMPLES, probeStart, true)] : [];
    bodies.push(Buffer.from(workload.jsonBody(k, k + fleet, extra)));
    k += fleet;
  }

  const watch = await AnomalyWatch.open(client, {
    watched: (series) => series.startsWith(`${PROBE_METRIC}{`),
    from: spikeTs,
    to: spikeTs + 1,
  });
  const acceptedAt = new Map<string, number>();
  const start = performance.now();
  const inFlight = new Set<Promise<void>>();
  const requests: Array<Promise<void>> = [];
  try {
    for (let j = 0; j < plan.requests; j++) {
      const due = start + j * plan.intervalMs;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      // A failed request fails the run through Promise.all below; here it only frees its slot.
      while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight).catch(() => undefined);
      const probe = j % plan.spikeEvery === 0 ? probeName(j / plan.spikeEvery) : undefined;
      const request = client.push(bodies[j]).then(() => {
        if (probe) acceptedAt.set(probe, performance.now());
      });
      const settled = request.finally(() => inFlight.delete(settled)).catch(() => undefined);
      inFlight.add(settled);
      requests.push(request);
    }
    await Promise.all(requests);
    const pacedSeconds = (performance.now() - start) / 1000;
    const paced = (plan.requests * LATENCY_REQUEST_POINTS) / pacedSeconds;
    if (paced < 0.95 * config.latencyRate) {
      // The sender shares this process with the server: a saturated server delays the sending too.
      process.stderr.write(
        `warning: the paced load reached ${Math.round(paced)} of ${config.latencyRate} points/s: ` +
          'the server is saturated, and the latency figures include its backlog\n',
      );
    }
    const deadline = performance.now() + SPIKE_TIMEOUT_MS;
    while (watch.seen.size < plan.probes && performance.now() < deadline) await sleep(DRAIN_POLL_MS);
    await watch.close();

    const latencies: number[] = [];
    for (const [probe, accepted] of acceptedAt) {
      const seen = watch.seen.get(probe);
      if (seen !== undefined) latencies.push(seen - accepted);
    }
    if (latencies.length === 0) throw new Error('no spike became an anomaly: latency cannot be measured');
    // The slowest spikes and when in the phase they were accepted: a stall shows as a cluster.
    const slowest = [...acceptedAt]
      .filter(([probe]) => watch.seen.has(probe))
      .map(([probe, accepted]) => ({ at: accepted - start, ms: watch.seen.get(probe)! - accepted }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 8);
    process.stderr.write(
      `slowest spikes (accepted at s: ms): ${slowest.map((s) => `${(s.at / 1000).toFixed(1)}: ${Math.round(s.ms)}`).join(', ')}\n`,
    );
    process.stderr.write(
      `latency: ${latencies.length} of ${plan.probes} spikes seen by ${watch.method}` +
        `${watch.method === 'poll' ? ` (every ${POLL_INTERVAL_MS} ms)` : ''}\n`,
    );
    return {
      watch: watch.method === 'poll' ? `poll-${POLL_INTERVAL_MS}ms` : 'stream',
      figures: {
        pacedPointsPerSecond: figure('points/s', [paced]),
        latencyP50Ms: figure('ms', [percentile(latencies, 50)]),
        latencyP99Ms: figure('ms', [percentile(latencies, 99)]),
        latencyMaxMs: figure('ms', [percentile(latencies, 100)]),
        missedSpikes: figure('spikes', [plan.probes - latencies.length]),
      },
    };
  } finally {
    await watch.close();
    await Promise.allSettled(requests);
  }
}

/** Waits until the engine's stored counter reaches `target`. */
async function drained(client: BenchClient, target: number): Promise<void> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    const stored = await client.storedPoints();
    if (stored >= target) return;
    if (Date.now() > deadline)
      throw new Error(`the engine stored ${stored} of ${target} points in ${DRAIN_TIMEOUT_MS} ms`);
    await sleep(DRAIN_POLL_MS);
  }
}

/**
 * A build without Kafka mode ignores SEISMO_KAFKA_BROKERS and runs embedded: its figures
 * would be the embedded ones under another name. Kafka mode creates the points topic at start.
 */
async function assertKafkaMode(broker: KafkaBroker): Promise<void> {
  const admin = new Kafka({
    clientId: 'seismo-bench',
    brokers: broker.brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(POINTS_TOPIC)) {
      throw new Error(
        `serve() did not create ${POINTS_TOPIC}: this build has no Kafka mode (SEISMO_KAFKA_BROKERS is ignored), ` +
          'so the end-to-end benchmark cannot run on it',
      );
    }
  } finally {
    await admin.disconnect();
  }
}

if (require.main === module) {
  reportMeasurement((argv) => measureServer(parseServerArguments(argv)));
}
