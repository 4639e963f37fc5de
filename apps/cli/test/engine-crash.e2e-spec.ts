import { KAFKA_BROKER_HOOK_TIMEOUT_MS, useKafkaBroker } from '@seismo/kafka/testing';
import { encodePointBatch, partitionOf, PointBatchBuilder } from '@seismo/pipeline';
import { ClickHouseConnection, parseTenantId, type TenantId } from '@seismo/storage';
import { Kafka, logLevel } from 'kafkajs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchProcessor } from '../../engine/src/pipeline/batch.processor';
import { KafkaPointProducer } from '../../engine/src/pipeline/kafka-point.producer';
import { type SeismoProcess, startSeismo } from './seismo-process';

/*
 * The engine process is killed (SIGKILL) at random moments while it works through the
 * points topic, and restarted on the same data directory and consumer group. Once it has
 * caught up, the points and anomalies it stored must equal those of a run that was never
 * interrupted, row for row: none lost, none doubled, every score the same. The scores
 * after each restart are those of the restored detector state (checkpoint + replay).
 */

const kafka = useKafkaBroker();
jest.setTimeout(300_000);

const ADMIN = 'crash-test-admin-token';
const PARTITIONS = 4;
const SERIES = 24;
const POINTS = 1600;
const PER_MESSAGE = 50;
const T0 = Date.UTC(2031, 0, 1);
const MINUTE = 60_000;

/** Series s: a noisy seasonal metric with outliers and a level shift, so anomalies happen throughout. */
function metric(s: number, i: number): number {
  const noise = (((i + 31 * s) * 7919) % 211) / 100;
  const spike = i % (197 + s) === 150 ? 40 : 0;
  return 50 + 3 * s + 8 * Math.sin((2 * Math.PI * i) / (48 + s)) + noise + spike + (i > 1100 ? 15 : 0);
}

/** Every message of the run, per partition, in the order they are produced. */
function messagesOf(tenant: TenantId): Map<number, Uint8Array[]> {
  const out = new Map<number, Uint8Array[]>();
  for (let start = 0; start < POINTS; start += PER_MESSAGE) {
    for (let s = 0; s < SERIES; s++) {
      const series = `latency{service="s${s}"}`;
      const builder = new PointBatchBuilder(tenant);
      for (let i = start; i < start + PER_MESSAGE; i++) builder.add(series, T0 + i * MINUTE, metric(s, i));
      const partition = partitionOf(tenant, series, PARTITIONS);
      out.set(partition, [...(out.get(partition) ?? []), encodePointBatch(builder.build())]);
    }
  }
  return out;
}

function startEngine(dataDir: string): SeismoProcess {
  return startSeismo({
    SEISMO_DATA_DIR: dataDir,
    SEISMO_ADMIN_TOKEN: ADMIN,
    SEISMO_KAFKA_BROKERS: kafka().brokers.join(','),
    SEISMO_ROLE: 'all',
    SEISMO_PARTITIONS: String(PARTITIONS),
    SEISMO_CHECKPOINT_INTERVAL_MS: '200',
  });
}

describe('the engine killed mid-batch (SIGKILL) and restarted', () => {
  let dataDir: string;
  let engine: SeismoProcess | undefined;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'seismo-crash-'));
  }, KAFKA_BROKER_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    if (engine && engine.child.exitCode === null) {
      engine.child.kill('SIGKILL');
      await engine.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores exactly what an uninterrupted run stores, and scores on as if never stopped', async () => {
    engine = startEngine(dataDir);
    const url = await engine.url;
    const created = await fetch(`${url}/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'crash' }),
    });
    expect(created.status).toBe(201);
    const tenant = parseTenantId(((await created.json()) as { id: string }).id);
    const messages = messagesOf(tenant);
    const total = [...messages.values()].reduce((n, list) => n + list.length, 0);

    const client = new Kafka({
      clientId: 'engine-crash-spec',
      brokers: kafka().brokers,
      logLevel: logLevel.NOTHING,
    });
    const producer = new KafkaPointProducer(client, { topic: 'seismo.points', partitions: PARTITIONS });
    await producer.connect();
    const admin = client.admin();
    await admin.connect();
    const committed = async (): Promise<number> => {
      const [{ partitions }] = await admin.fetchOffsets({
        groupId: 'seismo-engine',
        topics: ['seismo.points'],
      });
      return partitions.reduce((sum, { offset }) => sum + Math.max(0, Number(offset)), 0);
    };

    // The points arrive in three waves; after each of the first two the engine is killed
    // at a random moment while it works, and started again on the same directory.
    const waves = 3;
    let kills = 0;
    for (let wave = 0; wave < waves; wave++) {
      for (const [partition, list] of messages) {
        const share = Math.ceil(list.length / waves);
        for (const value of list.slice(wave * share, (wave + 1) * share))
          await producer.append(partition, value);
      }
      if (wave === waves - 1) break;
      const before = await committed();
      for (let waited = 0; waited < 60_000 && (await committed()) === before; waited += 20) await sleep(20);
      await sleep(Math.floor(Math.random() * 100)); // while the wave is being worked through
      engine.child.kill('SIGKILL');
      await engine.exited;
      kills++;
      engine = startEngine(dataDir);
      await engine.url;
    }
    expect(kills).toBe(2);
    for (let waited = 0; (await committed()) < total; waited += 100) {
      if (waited > 180_000) throw new Error(`the engine did not catch up: ${engine.stderr()}`);
      await sleep(100);
    }
    engine.child.kill('SIGTERM');
    expect(await engine.exited).toBe(0);
    await producer.disconnect();
    await admin.disconnect();

    // What one engine that never stopped computes: each partition's messages through one processor.
    const processor = new BatchProcessor({
      retentionOf: () => ({ pointsDays: 65535, anomaliesDays: 65535 }),
    });
    const scores = new Map<string, number>();
    const anomalies: unknown[] = [];
    for (const [partition, list] of messages) {
      list.forEach((value, offset) => {
        const processed = processor.process({ partition, messages: [{ offset, value }] });
        for (const p of processed.points) scores.set(`${p.series}@${p.ts}`, Math.fround(p.score));
        for (const a of processed.anomalies) {
          anomalies.push([
            a.id,
            a.series,
            a.ts,
            a.value,
            Math.fround(a.score),
            a.severity,
            a.context.ts,
            a.context.values,
          ]);
        }
      });
    }

    const storage = await ClickHouseConnection.open({ dataDir: join(dataDir, 'clickhouse') });
    try {
      const read = async <T>(query: string): Promise<T[]> =>
        (await storage.client.query({ query, format: 'JSONEachRow' })).json<T>();
      // Without FINAL: a row written twice would show.
      const points = await read<{ series: string; ts: string; score: number }>(
        'SELECT series, toUnixTimestamp64Milli(ts) AS ts, score FROM points',
      );
      expect(points).toHaveLength(SERIES * POINTS);
      const differing = points.filter(
        (p) => scores.get(`${p.series}@${Number(p.ts)}`) !== Math.fround(p.score),
      );
      expect(differing).toEqual([]);

      const stored = await read<{
        id: string;
        series: string;
        ts: string;
        value: number;
        score: number;
        severity: string;
        context_ts: string[];
        context_values: number[];
      }>(
        `SELECT id, series, toUnixTimestamp64Milli(ts) AS ts, value, score, severity,
                arrayMap(t -> toUnixTimestamp64Milli(t), context_ts) AS context_ts, context_values
         FROM anomalies`,
      );
      const rows = stored.map((a) => [
        a.id,
        a.series,
        Number(a.ts),
        a.value,
        Math.fround(a.score),
        a.severity,
        a.context_ts.map(Number),
        a.context_values,
      ]);
      const byId = (x: unknown, y: unknown) =>
        String((x as string[])[0]).localeCompare(String((y as string[])[0]));
      expect(anomalies.length).toBeGreaterThan(20);
      expect(rows.sort(byId)).toEqual(anomalies.sort(byId));

      // Metering rode in the same writes: every point counted once, though batches were replayed.
      const [usage] = await read<Record<string, string | number>>(
        `SELECT sum(points_ingested) AS ingested, sum(points_scored) AS scored, sum(anomalies) AS anomalies,
                length(groupUniqArrayArray(series_hashes)) AS series
         FROM usage_hourly WHERE tenant_id = '${tenant}'`,
      );
      expect(Object.fromEntries(Object.entries(usage).map(([k, v]) => [k, Number(v)]))).toEqual({
        ingested: SERIES * POINTS,
        scored: SERIES * POINTS,
        anomalies: anomalies.length,
        series: SERIES,
      });
    } finally {
      await storage.close();
    }
  });
});
