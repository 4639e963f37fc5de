import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '@seismo/config';
import { KAFKA_BROKER_HOOK_TIMEOUT_MS, randomTopicName, useKafkaBroker } from '@seismo/kafka/testing';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { type HealthReport } from '../src/health/health.controller';
import { type RunningServer, serve } from '../src/serve';
import { startReceiver } from '../../../libs/alerting/test/receiver';
import { eventually } from './embedded-server.harness';

const BIN = resolve(__dirname, '../../../bin/seismo.js');
const ADMIN = 'e2e-admin-token-kafka-0123456789';
const MINUTE = 60_000;

jest.setTimeout(120_000);
const kafka = useKafkaBroker();

/** A steady series with one spike at 250: 300 points, one minute apart. */
function spikyPoints(series: string): unknown[] {
  const start = Date.now() - 400 * MINUTE;
  return Array.from({ length: 300 }, (_, i) => ({
    series,
    ts: start + i * MINUTE,
    value: i === 250 ? 400 : 50 + 5 * Math.sin(i / 20) + ((i * 7919) % 13) / 13,
  }));
}

async function post(
  url: string,
  token: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function health(url: string): Promise<{ status: number; body: HealthReport }> {
  const response = await fetch(`${url}/health`);
  return { status: response.status, body: (await response.json()) as HealthReport };
}

/** The value of an unlabelled sample in a /metrics text; 0 when absent. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

/** Messages in a topic: the sum of its high watermarks. */
async function messagesIn(topic: string): Promise<number> {
  const admin = new Kafka({ brokers: kafka().brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

describe('Kafka mode, API and engine in one process (SEISMO_ROLE=all)', () => {
  let server: RunningServer;
  let dataDir: string;
  const topic = randomTopicName('points');

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'seismo-kafka-e2e-'));
    server = await serve(
      loadConfig({
        SEISMO_PORT: '0',
        SEISMO_HOST: '127.0.0.1',
        SEISMO_LOG_LEVEL: 'fatal',
        SEISMO_DATA_DIR: dataDir,
        SEISMO_ADMIN_TOKEN: ADMIN,
        SEISMO_PARTITIONS: '2',
        SEISMO_KAFKA_BROKERS: kafka().brokers.join(','),
        SEISMO_ENGINE_GROUP: randomTopicName('engine'),
        SEISMO_ALERTING_GROUP: randomTopicName('alerting'),
        SEISMO_ALLOW_PRIVATE_TARGETS: 'true',
        SEISMO_ALERT_TICK_MS: '200',
        SEISMO_NO_DATA_AFTER_MS: '1500',
      }),
      { topics: { points: topic, dlq: `${topic}.dlq`, anomalies: `${topic}.anomalies` } },
    );
  }, KAFKA_BROKER_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  }, KAFKA_BROKER_HOOK_TIMEOUT_MS);

  it('takes points over HTTP, through the topic, to the anomalies table', async () => {
    const tenant = await post(`${server.url}/v1/tenants`, ADMIN, { name: 'kafka-tenant' });
    const key = tenant.body.api_key as string;
    expect((await post(`${server.url}/v1/points`, key, { points: spikyPoints('cpu') })).status).toBe(202);
    // 202 comes after acks=all: the points are in the topic by now.
    expect(await messagesIn(topic)).toBeGreaterThanOrEqual(1);

    const anomalies = await eventually(async () => {
      const response = await fetch(`${server.url}/v1/anomalies?series=cpu&limit=100`, {
        headers: { authorization: `Bearer ${key}` },
      });
      const found = ((await response.json()) as { anomalies: Array<{ value: number }> }).anomalies;
      return found.length > 0 ? found : undefined;
    }, 'the spike to be found');
    expect(anomalies.map((a) => a.value)).toContain(400);
  });

  it("scores a zero-retention tenant's points through the topic into hourly summaries, storing none", async () => {
    const tenant = await post(`${server.url}/v1/tenants`, ADMIN, { name: 'private', zero_retention: true });
    const key = tenant.body.api_key as string;
    const points = spikyPoints('mem');
    expect((await post(`${server.url}/v1/points`, key, { points })).status).toBe(202);
    const hours = await eventually(async () => {
      const response = await fetch(`${server.url}/v1/series/mem/hourly?from=${Date.now() - 480 * MINUTE}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      const found = ((await response.json()) as { hours: Array<{ count: number }> }).hours;
      return found.reduce((n, h) => n + h.count, 0) === points.length ? found : undefined;
    }, 'every point in the hourly summaries');
    expect(hours.length).toBeGreaterThanOrEqual(5);
    const counted = await server.runtime.connection.client.query({
      query: `SELECT count() AS n FROM points WHERE tenant_id = '${tenant.body.id as string}'`,
      format: 'JSONEachRow',
    });
    expect(Number((await counted.json<{ n: string }>())[0].n)).toBe(0);

    // The topic did hold them: created by Seismo with a retention of one day, not the broker's week.
    const admin = new Kafka({ brokers: kafka().brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms'] }],
        includeSynonyms: false,
      });
      expect(resources[0].configEntries[0]).toMatchObject({
        configName: 'retention.ms',
        configValue: '86400000',
      });
    } finally {
      await admin.disconnect();
    }
  });

  it('reports Kafka up and the group lag on /health, once the engine caught up, and on /metrics', async () => {
    const body = await eventually(async () => {
      const { status, body } = await health(server.url);
      return status === 200 &&
        body.checks.consumer_lag?.status === 'up' &&
        body.checks.consumer_lag.messages === 0
        ? body
        : undefined;
    }, 'the engine to have no lag');
    expect(body).toMatchObject({
      status: 'ok',
      role: 'all',
      mode: 'kafka',
      checks: { clickhouse: { status: 'up' }, kafka: { status: 'up', brokers: 1 } },
      failing: [],
    });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain('seismo_engine_consumer_lag_messages{partition="0"} 0');
    expect(text).toContain('seismo_engine_consumer_lag_messages{partition="1"} 0');
    expect(text).not.toContain('seismo_queue_pending_bytes{');
  });

  describe('split into an API process and an engine process (the built program)', () => {
    const children: ChildProcess[] = [];
    const dirs: string[] = [];

    afterAll(async () => {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    });

    it('ingests through the API process; the engine process consumes, stores and answers /health only', async () => {
      // Each process has its own embedded ClickHouse (one directory per process, and this one's is
      // open), so both start from one directory in which the tenant exists: made by an embedded
      // server, then copied.
      const apiDir = await mkdtemp(join(tmpdir(), 'seismo-kafka-api-'));
      const engineDir = await mkdtemp(join(tmpdir(), 'seismo-kafka-engine-'));
      dirs.push(apiDir, engineDir);
      const seed = await startServe({ SEISMO_DATA_DIR: apiDir, SEISMO_ADMIN_TOKEN: ADMIN });
      const key = (await post(`${seed.url}/v1/tenants`, ADMIN, { name: 'split-tenant' })).body
        .api_key as string;
      await stopServe(seed.child);
      await cp(apiDir, engineDir, { recursive: true });

      const env = {
        SEISMO_KAFKA_BROKERS: kafka().brokers.join(','),
        SEISMO_PARTITIONS: '2',
        SEISMO_ENGINE_GROUP: randomTopicName('split'),
        SEISMO_ADMIN_TOKEN: ADMIN,
      };
      const api = await startServe({ ...env, SEISMO_ROLE: 'api', SEISMO_DATA_DIR: apiDir });
      children.push(api.child);
      const engine = await startServe({ ...env, SEISMO_ROLE: 'engine', SEISMO_DATA_DIR: engineDir });
      children.push(engine.child);

      expect((await post(`${api.url}/v1/points`, key, { points: spikyPoints('mem') })).status).toBe(202);
      expect(await messagesIn('seismo.points')).toBeGreaterThanOrEqual(1);
      await eventually(
        async () =>
          (await metric(engine.url, 'seismo_engine_points_stored_total')) === 300 ? true : undefined,
        'the engine process to store the 300 points',
      );
      expect(await metric(engine.url, 'seismo_engine_anomalies_total')).toBeGreaterThanOrEqual(1);
      expect(await metric(engine.url, 'seismo_engine_dead_letters_total')).toBe(0);

      const engineHealth = await eventually(async () => {
        const { status, body } = await health(engine.url);
        return status === 200 &&
          body.checks.consumer_lag?.status === 'up' &&
          body.checks.consumer_lag.messages === 0
          ? body
          : undefined;
      }, 'the engine process to report no lag');
      expect(engineHealth).toMatchObject({
        role: 'engine',
        mode: 'kafka',
        checks: { kafka: { status: 'up' } },
      });
      const apiHealth = await health(api.url);
      expect(apiHealth.status).toBe(200);
      expect(apiHealth.body).toMatchObject({
        role: 'api',
        mode: 'kafka',
        checks: { kafka: { status: 'up' } },
      });
      expect(apiHealth.body.checks.consumer_lag).toBeUndefined();

      // The engine process serves operations only.
      expect((await post(`${engine.url}/v1/points`, key, { points: spikyPoints('mem') })).status).toBe(404);
      expect((await fetch(`${engine.url}/openapi.json`)).status).toBe(404);
      expect((await fetch(`${engine.url}/metrics`)).status).toBe(200);

      for (const child of [api.child, engine.child]) expect(await stopServe(child)).toBe(0);
    });
  });

  // After the lag check: the inlet writes in transactions, and the engine commits up to the
  // last point, so each partition's commit marker stays counted as lag while it idles.
  it("opens a no-data incident for a series a producer writes straight to its tenant's topic, and resolves it when the series is back", async () => {
    const receiver = await startReceiver((_, __, response) => response.writeHead(204).end());
    const producer = new Kafka({ brokers: kafka().brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    try {
      const tenant = await post(`${server.url}/v1/tenants`, ADMIN, { name: 'inlet-silence' });
      const key = tenant.body.api_key as string;
      const inlet = `seismo.in.${tenant.body.id as string}`;
      const admin = new Kafka({ brokers: kafka().brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: inlet, numPartitions: 1 }], waitForLeaders: true });
      await admin.disconnect();
      const subscribed = await post(`${server.url}/v1/subscriptions`, key, {
        channel: 'webhook',
        target: { url: `${receiver.url}/hooks/inlet` },
        filter: { series: 'heartbeat*' },
      });
      expect(subscribed.status).toBe(201);
      const push = (value: number) =>
        producer.send({
          topic: inlet,
          messages: [
            {
              key: 'heartbeat',
              value: JSON.stringify({ points: [{ series: 'heartbeat', ts: Date.now(), value }] }),
            },
          ],
        });
      // The engine looks for new inlet topics every 10 s: the first point tells when it relays this one.
      await push(0);
      await eventually(async () => {
        const response = await fetch(`${server.url}/v1/series`, {
          headers: { authorization: `Bearer ${key}` },
        });
        const { series } = (await response.json()) as { series: unknown[] };
        return series.length > 0 ? true : undefined;
      }, 'the inlet to relay the first point');
      for (let i = 1; i <= 14; i++) {
        await push(i);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const heard = (state: string) =>
        eventually(async () => {
          const bodies = receiver.received.map(
            (r) => JSON.parse(r.body.toString()) as Record<string, unknown>,
          );
          return bodies.find((b) => b.kind === 'no_data' && b.state === state);
        }, `the webhook to hear of the silence as ${state}`);
      const opened = await heard('opened');
      expect(opened.title).toBe('heartbeat stopped reporting');
      await push(15);
      expect((await heard('resolved')).incident_id).toBe(opened.incident_id);
    } finally {
      await producer.disconnect();
      await receiver.close();
    }
  });

  // Last: the broker does not come back for this file.
  it('answers 503 naming kafka once the broker is gone, and quickly', async () => {
    await kafka().stop();
    const { status, body } = await eventually(async () => {
      const answer = await health(server.url);
      return answer.status === 503 ? answer : undefined;
    }, '/health to see the broker gone');
    expect(status).toBe(503);
    expect(body.status).toBe('unavailable');
    expect(body.failing).toContain('kafka');
    expect(body.checks.kafka).toMatchObject({ status: 'down' });
    expect(body.checks.clickhouse).toMatchObject({ status: 'up' });
  });
});

interface ServeChild {
  readonly child: ChildProcess;
  readonly url: string;
}

/** SIGTERM, and the exit code. */
function stopServe(child: ChildProcess): Promise<number | null> {
  const exit = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.kill('SIGTERM');
  return exit;
}

/** `seismo serve` as a child process, resolved once it says where it listens. */
function startServe(env: Record<string, string>): Promise<ServeChild> {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: { ...process.env, SEISMO_HOST: '127.0.0.1', SEISMO_PORT: '0', SEISMO_LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line:\n${stderr}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) at start:\n${stderr}`)));
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    });
  });
}
