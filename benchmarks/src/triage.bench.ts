import { DEFAULT_DETECTOR } from '@seismo/detectors';
import { PROFILE_SCHEMA_NAME } from '@seismo/llm/profile';
import { FAKE_VERDICT, type FakeLlmReply, FakeLlmServer, type FakeLlmRequest } from '@seismo/llm/testing';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseTriageArguments, type TriageConfig } from './arguments';
import { BenchClient } from './bench-client';
import { sampleValue } from './exposition';
import { reportMeasurement } from './fork';
import { figure, type Figure, latencyFigures, type Measurement } from './result';
import { mean, percentile } from './statistics';
import {
  jobFigureName,
  jobsBetween,
  LLM_JOB_OUTCOMES,
  llmJobCounts,
  type LlmJobOutcome,
  SpikedWorkload,
} from './triage';
import { TriageServerProcess } from './triage.server';
import { Workload } from './workload';

const DAY_MS = 86_400_000;
const STEP_MS = 10_000;
/** The slow provider of the issue: every answer takes this long. */
const LLM_DELAY_MS = 2000;
/** What a profiling call answers: a request latency, whose moves either way matter (none is kept quiet). */
const LATENCY_PROFILE = { kind: 'latency', direction: 'both', seasonality: 'daily', unit: 's' };
/** Steady samples each series gets before any spike: the ensemble is past warm-up at 200. */
const WARM_SAMPLES = 300;
/** Untimed spiked points before the first timed run: triage is busy when the clock starts. */
const LEAD_POINTS = 300_000;
/** As the embedded server benchmark pushes: 5,000-point bodies, 4 in flight. */
const REQUEST_POINTS = 5000;
const CONCURRENCY = 4;
/**
 * Budgets out of the way: under production's (1M tokens a tenant a day) a long run ends
 * in `tenant_budget` skips, which cost less than calls; the slow provider is what is measured.
 */
const UNLIMITED_TOKENS = String(1e12);
/** Time between the end of one probe query and the start of the next. */
const PROBE_INTERVAL_MS = 1000;
const DRAIN_POLL_MS = 50;
const DRAIN_TIMEOUT_MS = 10 * 60_000;
const ANOMALIES = 'seismo_engine_anomalies_total';
const BATCH_WRITE = 'seismo_engine_batch_write_seconds';

/**
 * What LLM triage costs the embedded server's throughput while the provider is slow: one
 * process of the A/B, driving `serve()` (embedded ClickHouse in a temporary directory, the
 * in-process queue) in a process of its own (triage.server.ts: killed at the end rather
 * than stopped), with LLM triage configured (openai-compatible) against a FakeLlmServer
 * here on 127.0.0.1 that answers every call after 2 s. The arms differ in one thing, the
 * tenant's `llm_triage` (PATCH /v1/tenants/{id}, made in both): `off` leaves every
 * anomaly to its statistical verdict; `on` sends each through the alert path's triage
 * (its window and labelled past read from ClickHouse, its series pattern's profile, the
 * call, the verdict or skip stored as a new revision of the anomaly row, tokens metered).
 *
 * `series` series (the pipeline workload's web fleet) get WARM_SAMPLES steady samples
 * each, untimed; from then on one point in `spikeEvery` is a spike (SpikedWorkload), each
 * an anomaly once the ensemble flags it. LEAD_POINTS untimed spiked points get triage
 * busy, then `runs` timed runs of `points` points each: bodies of REQUEST_POINTS encoded
 * before the clock, CONCURRENCY in flight, as fast as the server answers. Accepted
 * points/s runs to the last 202, stored points/s to the engine's stored counter reaching
 * them all. Meanwhile a probe asks GET /v1/anomalies for an empty range, one query at a
 * time, PROBE_INTERVAL_MS apart: its latency is queueing in ClickHouse, where the
 * triage's reads wait too. The counts (spikes sent, anomalies stored, calls the fake
 * received, `seismo_llm_jobs` by outcome) cover the timed runs; at their end, the
 * anomalies still waiting for their triage (the alerting service's own count) and the
 * LLM jobs queued.
 */
export async function measureTriage(config: TriageConfig): Promise<Measurement> {
  const dir = await mkdtemp(join(tmpdir(), 'seismo-bench-triage-'));
  const llm = await FakeLlmServer.start({ defaultReply: slowReply });
  let server: TriageServerProcess | undefined;
  try {
    const adminToken = randomBytes(24).toString('hex');
    server = await TriageServerProcess.start({
      SEISMO_PORT: '0',
      SEISMO_HOST: '127.0.0.1',
      SEISMO_LOG_LEVEL: 'warn',
      SEISMO_DATA_DIR: dir,
      SEISMO_ADMIN_TOKEN: adminToken,
      SEISMO_LLM_PROVIDER: 'openai-compatible',
      SEISMO_LLM_BASE_URL: llm.openAiBaseUrl,
      SEISMO_LLM_MODEL: 'fake-slow',
      SEISMO_LLM_DAILY_TOKENS: UNLIMITED_TOKENS,
      SEISMO_LLM_TENANT_DAILY_TOKENS: UNLIMITED_TOKENS,
    });
    const { client, apiKey } = await triageTenant(server.url, adminToken, config.arm === 'on');

    // Point k is sample floor(k / series) of its series: spikes begin once every series is warm.
    const lead = WARM_SAMPLES * config.series;
    const workload = new SpikedWorkload(
      new Workload(config.series, Date.now() - DAY_MS, STEP_MS),
      config.spikeEvery,
      lead,
    );
    await pushAll(client, bodies(workload, 0, lead), lead);
    await pushAll(client, bodies(workload, lead, lead + LEAD_POINTS), LEAD_POINTS);

    const before = await scrape(client);
    const callsBefore = calls(llm.requests);
    const probe = new QueryProbe(server.url, apiKey);
    const accepted: number[] = [];
    const stored: number[] = [];
    let from = lead + LEAD_POINTS;
    try {
      for (let run = 0; run < config.runs; run++) {
        const requests = bodies(workload, from, from + config.points);
        probe.start();
        const rates = await pushAll(client, requests, config.points);
        await probe.pause();
        accepted.push(rates.accepted);
        stored.push(rates.stored);
        from += config.points;
      }
    } finally {
      await probe.pause();
    }
    const after = await scrape(client);
    const callsAfter = calls(llm.requests);
    const spikes = workload.spikesIn(lead + LEAD_POINTS, from);
    // Every anomaly is the one tenant's: with its triage on, each one not yet triaged waits for it.
    const backlog = config.arm === 'on' ? after.anomalies - (await server.triaged()) : 0;

    const jobs = jobsBetween(before.jobs, after.jobs);
    const writes = after.writes - before.writes;
    // Where ingest would slow: the engine's writes share embedded ClickHouse with the triage's reads and writes.
    const batchWriteMs = writes > 0 ? (1000 * (after.writeSeconds - before.writeSeconds)) / writes : 0;
    if (config.arm === 'off' && llm.requests.length > 0)
      throw new Error(`triage is off, yet the LLM was called ${llm.requests.length} times`);
    if (config.arm === 'on' && callsAfter.triage + callsAfter.profile === 0)
      throw new Error('triage is on, yet the LLM was never called');
    process.stderr.write(
      `${config.arm}: ${Math.round(mean(stored))} points/s stored; ` +
        `${after.anomalies - before.anomalies} anomalies of ${spikes} spikes; ` +
        `${callsAfter.triage - callsBefore.triage} triage and ${callsAfter.profile - callsBefore.profile} profile calls; ` +
        `jobs ${
          LLM_JOB_OUTCOMES.filter((o) => jobs[o] > 0)
            .map((o) => `${o}=${jobs[o]}`)
            .join(' ') || 'none'
        }; engine batch write ${batchWriteMs.toFixed(1)} ms; at the end ${backlog} anomalies waiting for triage, ${after.queued} LLM jobs queued; ` +
        `GET /v1/anomalies p50 ${probe.latencies.length > 0 ? Math.round(percentile(probe.latencies, 50)) : '-'} ms\n`,
    );
    return {
      benchmark: 'triage',
      detector: DEFAULT_DETECTOR,
      params: {
        arm: config.arm,
        points: config.points,
        runs: config.runs,
        series: config.series,
        spikeEvery: config.spikeEvery,
        requestPoints: REQUEST_POINTS,
        concurrency: CONCURRENCY,
        llmDelayMs: LLM_DELAY_MS,
      },
      figures: {
        storedPointsPerSecond: figure('points/s', stored),
        acceptedPointsPerSecond: figure('points/s', accepted),
        spikes: figure('spikes', [spikes]),
        anomalies: figure('anomalies', [after.anomalies - before.anomalies]),
        triageCalls: figure('calls', [callsAfter.triage - callsBefore.triage]),
        profileCalls: figure('calls', [callsAfter.profile - callsBefore.profile]),
        ...jobFigures(jobs),
        batchWriteMs: figure('ms', [batchWriteMs]),
        triageBacklogAtEnd: figure('anomalies waiting', [backlog]),
        llmQueuedAtEnd: figure('jobs waiting', [after.queued]),
        ...latencyFigures('anomalyQuery', probe.latencies),
      },
      runs: config.runs,
    };
  } finally {
    await server?.kill();
    await llm.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A tenant on the enterprise plan (its limits never refuse here), its triage turned on or off by the admin. */
async function triageTenant(
  url: string,
  adminToken: string,
  triage: boolean,
): Promise<{ client: BenchClient; apiKey: string }> {
  const admin = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const created = await fetch(`${url}/v1/tenants`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ name: 'bench', plan: 'enterprise' }),
  });
  if (created.status !== 201) throw new Error(`POST /v1/tenants: ${created.status} ${await created.text()}`);
  const tenant = (await created.json()) as { id: string; api_key: string };
  const patched = await fetch(`${url}/v1/tenants/${tenant.id}`, {
    method: 'PATCH',
    headers: admin,
    body: JSON.stringify({ llm_triage: triage }),
  });
  if (patched.status !== 200)
    throw new Error(`PATCH /v1/tenants/${tenant.id}: ${patched.status} ${await patched.text()}`);
  return { client: new BenchClient(url, tenant.api_key), apiKey: tenant.api_key };
}

/** Bodies of stream points from..to-1, REQUEST_POINTS each, encoded before any clock starts. */
function bodies(workload: SpikedWorkload, from: number, to: number): Buffer[] {
  const out: Buffer[] = [];
  for (let k = from; k < to; k += REQUEST_POINTS) {
    out.push(Buffer.from(workload.jsonBody(k, Math.min(to, k + REQUEST_POINTS))));
  }
  return out;
}

/** Pushes the bodies, CONCURRENCY in flight, and waits until the engine stored all `points`. */
async function pushAll(
  client: BenchClient,
  requests: readonly Buffer[],
  points: number,
): Promise<{ accepted: number; stored: number }> {
  const target = (await client.storedPoints()) + points;
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, requests.length) }, async () => {
      while (next < requests.length) await client.push(requests[next++]);
    }),
  );
  const acceptedSeconds = (performance.now() - start) / 1000;
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    const stored = await client.storedPoints();
    if (stored >= target) break;
    if (Date.now() > deadline)
      throw new Error(`the engine stored ${stored} of ${target} points in ${DRAIN_TIMEOUT_MS} ms`);
    await sleep(DRAIN_POLL_MS);
  }
  const storedSeconds = (performance.now() - start) / 1000;
  return { accepted: points / acceptedSeconds, stored: points / storedSeconds };
}

/**
 * GET /v1/anomalies for an empty time range, one at a time, PROBE_INTERVAL_MS apart,
 * while started: the answer holds nothing, so its latency is the wait for ClickHouse. A
 * query still out when paused is cut and counts with the time it had waited (a lower bound).
 */
class QueryProbe {
  readonly latencies: number[] = [];
  private stopping: AbortController | undefined;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly url: string,
    private readonly apiKey: string,
  ) {}

  start(): void {
    const stopping = new AbortController();
    this.stopping = stopping;
    this.loop = this.run(stopping.signal);
  }

  async pause(): Promise<void> {
    this.stopping?.abort();
    this.stopping = undefined;
    await this.loop;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const url = `${this.url}/v1/anomalies?from=0&to=1&limit=1`;
    const headers = { authorization: `Bearer ${this.apiKey}` };
    while (!signal.aborted) {
      const start = performance.now();
      try {
        const response = await fetch(url, { headers, signal });
        await response.text();
        if (response.status !== 200) throw new Error(`GET /v1/anomalies: ${response.status}`);
      } catch (error) {
        if (!signal.aborted) throw error;
      }
      this.latencies.push(performance.now() - start);
      await sleep(PROBE_INTERVAL_MS, undefined, { signal }).catch(() => undefined);
    }
  }
}

interface Scrape {
  readonly anomalies: number;
  /** The engine's batch writes so far: how many, and their seconds in all. */
  readonly writes: number;
  readonly writeSeconds: number;
  readonly jobs: Record<LlmJobOutcome, number>;
  readonly queued: number;
}

/** The server's own counters, from GET /metrics as an operator's scraper reads them. */
async function scrape(client: BenchClient): Promise<Scrape> {
  const response = await fetch(`${client.url}/metrics`);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET /metrics: ${response.status}`);
  const jobs = llmJobCounts(text);
  if (!jobs) throw new Error('GET /metrics has no seismo_llm_jobs: the server runs no LLM triage');
  const queued = /^seismo_llm_queue\{state="queued"\} (\S+)$/m.exec(text);
  return {
    anomalies: sampleValue(text, ANOMALIES) ?? 0,
    writes: sampleValue(text, `${BATCH_WRITE}_count`) ?? 0,
    writeSeconds: sampleValue(text, `${BATCH_WRITE}_sum`) ?? 0,
    jobs,
    queued: queued ? Number(queued[1]) : 0,
  };
}

/** Every answer after LLM_DELAY_MS: a profile to a profiling call, else a verdict. */
function slowReply(request: FakeLlmRequest): FakeLlmReply {
  return { delayMs: LLM_DELAY_MS, then: { verdict: isProfiling(request) ? LATENCY_PROFILE : FAKE_VERDICT } };
}

function isProfiling(request: FakeLlmRequest): boolean {
  const body = request.body as { response_format?: { json_schema?: { name?: string } } } | undefined;
  return body?.response_format?.json_schema?.name === PROFILE_SCHEMA_NAME;
}

/** Calls the fake LLM received so far: triage verdicts, and profiles of series patterns. */
function calls(requests: readonly FakeLlmRequest[]): { triage: number; profile: number } {
  const profile = requests.filter(isProfiling).length;
  return { triage: requests.length - profile, profile };
}

function jobFigures(jobs: Readonly<Record<LlmJobOutcome, number>>): Record<string, Figure> {
  return Object.fromEntries(LLM_JOB_OUTCOMES.map((o) => [jobFigureName(o), figure('jobs', [jobs[o]])]));
}

if (require.main === module) {
  reportMeasurement((argv) => measureTriage(parseTriageArguments(argv)));
}
