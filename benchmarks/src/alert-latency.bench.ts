import { loadConfig } from '@seismo/config';
import { MAX_RATE_PER_HOUR } from '@seismo/alerting';
import { DEFAULT_DETECTOR } from '@seismo/detectors';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { alertPlan } from './alert-plan';
import { type AlertLatencyConfig, parseAlertLatencyArguments } from './arguments';
import { BenchClient } from './bench-client';
import { reportMeasurement } from './fork';
import { type Injection, matchAlertReceipts } from './receipts';
import { figure, latencyFigures, type Measurement } from './result';
import { WebhookReceiver } from './webhook-receiver';
import { serve } from '../../apps/api/src/serve';
import { PROBE_METRIC, probeJson, probeName, Workload } from './workload';

const DAY_MS = 86_400_000;
const STEP_MS = 10_000;
/** Requests of the paced load: small and frequent, as a fleet of agents pushes. */
const REQUEST_POINTS = 1000;
/** Requests of the untimed warm-up: as large as the server benchmark's. */
const WARM_REQUEST_POINTS = 5000;
const INJECTIONS_PER_SECOND = 10;
/** The paced load runs this long before the first injection: sockets, JIT and batches settle. */
const LEAD_SECONDS = 5;
/**
 * Steady points each probe gets before its spike: the ensemble is past warm-up at 200.
 * Probes have no host or service label, so each spike opens an incident of its own.
 */
const PROBE_WARM_SAMPLES = 400;
/** Paced requests unanswered at once: beyond it the next request waits (see server.bench.ts). */
const MAX_IN_FLIGHT = 256;
const DRAIN_POLL_MS = 50;
const DRAIN_TIMEOUT_MS = 10 * 60_000;
/** How long after the last request was answered its anomaly's webhook may take before it counts as missed. */
const RECEIPT_TIMEOUT_MS = 30_000;

/**
 * Seismo embedded as users run it, `serve()` in this process (embedded ClickHouse in a
 * temporary directory, the in-process queue), with a tenant whose one webhook subscription
 * (every probe series, at the highest hourly rate) points at a receiver on 127.0.0.1.
 *
 * Each probe series is warmed, untimed, until the engine has stored it all. Then `rate`
 * points/s of `series` fleet series are pushed for `seconds` over `POST /v1/points`, paced;
 * after the lead, each of about ten requests a second carries one probe's spike in place
 * of a fleet point. An injection's latency runs from its request being sent to the first
 * webhook receipt naming its series at its point: ingest, the queue, scoring, the
 * ClickHouse write, the live feed, the incident tracker, the router, the outbox's write
 * and the webhook's POST.
 */
export async function measureAlertLatency(config: AlertLatencyConfig): Promise<Measurement> {
  const dir = await mkdtemp(join(tmpdir(), 'seismo-bench-alerts-'));
  const receiver = await WebhookReceiver.start();
  let server: Awaited<ReturnType<typeof serve>> | undefined;
  try {
    const adminToken = randomBytes(24).toString('hex');
    server = await serve(
      loadConfig({
        SEISMO_PORT: '0',
        SEISMO_HOST: '127.0.0.1',
        SEISMO_LOG_LEVEL: 'warn',
        SEISMO_DATA_DIR: dir,
        SEISMO_ADMIN_TOKEN: adminToken,
        SEISMO_ALLOW_PRIVATE_TARGETS: 'true',
      }),
    );
    const client = new BenchClient(server.url);
    await client.createTenant(adminToken, 'bench');
    await client.subscribeWebhook(`${receiver.url}/hooks/bench`, `${PROBE_METRIC}*`, MAX_RATE_PER_HOUR);

    const plan = alertPlan({
      rate: config.rate,
      seconds: config.seconds,
      requestPoints: REQUEST_POINTS,
      injectionsPerSecond: INJECTIONS_PER_SECOND,
      leadSeconds: Math.min(LEAD_SECONDS, config.seconds / 10),
      // A subscription's bucket starts full: this many incidents pass its rate at once.
      maxInjections: MAX_RATE_PER_HOUR,
    });
    const probes = plan.injectAt.length;
    const now = Date.now();
    // Probes live two hours back, a day after the fleet's first points: their spikes have a time of their own.
    const probeStart = now - 2 * 3_600_000;
    const spikeTs = probeStart + PROBE_WARM_SAMPLES * 1000;
    await warmProbes(client, probes, probeStart);

    const workload = new Workload(config.series, now - DAY_MS, STEP_MS);
    const bodies: Buffer[] = [];
    const carried = new Map<number, number>();
    plan.injectAt.forEach((request, probe) => carried.set(request, probe));
    for (let j = 0, k = 0; j < plan.requests; j++) {
      const probe = carried.get(j);
      const extra = probe === undefined ? [] : [probeJson(probe, PROBE_WARM_SAMPLES, probeStart, true)];
      const fleet = REQUEST_POINTS - extra.length;
      bodies.push(Buffer.from(workload.jsonBody(k, k + fleet, extra)));
      k += fleet;
    }

    const injections: Injection[] = [];
    const requests: Array<Promise<void>> = [];
    const inFlight = new Set<Promise<void>>();
    const storedBefore = await client.storedPoints();
    const start = performance.now();
    try {
      for (let j = 0; j < plan.requests; j++) {
        const due = start + j * plan.intervalMs;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        // A failed request fails the run through Promise.all below; here it only frees its slot.
        while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight).catch(() => undefined);
        const probe = carried.get(j);
        if (probe !== undefined) {
          injections.push({ series: probeName(probe), ts: spikeTs, sentAt: performance.now() });
        }
        const request = client.push(bodies[j]);
        const settled = request.finally(() => inFlight.delete(settled)).catch(() => undefined);
        inFlight.add(settled);
        requests.push(request);
      }
      await Promise.all(requests);
    } finally {
      await Promise.allSettled(requests);
    }
    const pacedSeconds = (performance.now() - start) / 1000;
    const paced = (plan.requests * REQUEST_POINTS) / pacedSeconds;
    // What the engine stored meanwhile: below the paced rate, it fell behind the load.
    const stored = ((await client.storedPoints()) - storedBefore) / pacedSeconds;
    if (paced < 0.95 * config.rate) {
      process.stderr.write(
        `warning: the paced load reached ${Math.round(paced)} of ${config.rate} points/s: ` +
          'the server is saturated, and the latency figures include its backlog\n',
      );
    }

    const deadline = performance.now() + RECEIPT_TIMEOUT_MS;
    while (matchAlertReceipts(injections, receiver.receipts).missing > 0 && performance.now() < deadline) {
      await sleep(DRAIN_POLL_MS);
    }
    const match = matchAlertReceipts(injections, receiver.receipts);
    process.stderr.write(
      `alerts: ${match.received} of ${injections.length} injected anomalies reached the webhook ` +
        `(${match.repeats} again, ${match.others + match.unreadable} other receipts)\n`,
    );
    if (match.received === 0)
      throw new Error('no injected anomaly reached the webhook: latency cannot be measured');
    return {
      benchmark: 'alert-latency',
      detector: DEFAULT_DETECTOR,
      params: {
        rate: config.rate,
        seconds: config.seconds,
        series: config.series,
        requestPoints: REQUEST_POINTS,
        injectionsPerSecond: INJECTIONS_PER_SECOND,
      },
      figures: {
        pacedPointsPerSecond: figure('points/s', [paced]),
        storedPointsPerSecond: figure('points/s', [stored]),
        ...latencyFigures('alert', match.latencies),
        injected: figure('anomalies', [injections.length]),
        received: figure('anomalies', [match.received]),
        repeatedReceipts: figure('receipts', [match.repeats]),
        // The subscription hears only probes: another receipt is a probe's alert of another point.
        otherReceipts: figure('receipts', [match.others + match.unreadable]),
      },
      runs: 1,
    };
  } finally {
    await server?.close();
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Pushes every probe's steady samples and waits until the engine has stored them all. */
async function warmProbes(client: BenchClient, probes: number, probeStart: number): Promise<void> {
  const warm: string[] = [];
  for (let sample = 0; sample < PROBE_WARM_SAMPLES; sample++) {
    for (let probe = 0; probe < probes; probe++) warm.push(probeJson(probe, sample, probeStart, false));
  }
  const target = (await client.storedPoints()) + warm.length;
  for (let from = 0; from < warm.length; from += WARM_REQUEST_POINTS) {
    await client.push(Buffer.from(`{"points":[${warm.slice(from, from + WARM_REQUEST_POINTS).join(',')}]}`));
  }
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    const stored = await client.storedPoints();
    if (stored >= target) return;
    if (Date.now() > deadline)
      throw new Error(`the engine stored ${stored} of ${target} points in ${DRAIN_TIMEOUT_MS} ms`);
    await sleep(DRAIN_POLL_MS);
  }
}

if (require.main === module) {
  reportMeasurement((argv) => measureAlertLatency(parseAlertLatencyArguments(argv)));
}
