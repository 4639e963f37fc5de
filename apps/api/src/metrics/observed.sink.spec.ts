import { type ProcessedBatch } from '@seismo/engine/pipeline/processed-batch';
import { type BatchSink } from '@seismo/engine/pipeline/sink';
import { parseTenantId, type PointRecord } from '@seismo/storage';
import { ObservedSink } from './observed.sink';
import { SeismoMetrics } from './seismo.metrics';

const ACME = parseTenantId('acme');
const GLOBEX = parseTenantId('globex');

function point(tenantId: typeof ACME, series: string): PointRecord {
  return { tenantId, series, ts: 0, value: 1, score: 0, flags: 0, retentionDays: 1 };
}

function batch(points: PointRecord[], anomalies = 0, deadLetters = 0): ProcessedBatch {
  return {
    partition: 0,
    firstOffset: 0,
    lastOffset: 0,
    points,
    anomalies: Array.from({ length: anomalies }, () => ({}) as ProcessedBatch['anomalies'][number]),
    usage: [],
    deadLetters: Array.from({ length: deadLetters }, (_, offset) => ({
      partition: 0,
      offset,
      reason: 'bad',
      value: new Uint8Array(0),
    })),
  };
}

/** The value of an unlabelled sample, as Prometheus would scrape it. */
async function valueOf(metrics: SeismoMetrics, name: string): Promise<number> {
  const line = (await metrics.exposition()).split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no sample ${name}`);
  return Number(line.slice(name.length + 1));
}

describe('ObservedSink', () => {
  const queue = { partitions: 1, pendingBytes: () => 0 };

  it('counts points, anomalies and dead letters once a write is taken', async () => {
    const written: ProcessedBatch[] = [];
    const metrics = new SeismoMetrics(queue);
    const sink = new ObservedSink({ write: async (b) => void written.push(b) }, metrics);

    await sink.write(batch([point(ACME, 'cpu'), point(ACME, 'cpu'), point(ACME, 'mem')], 2, 1));
    // The same name under another tenant is another series.
    await sink.write(batch([point(GLOBEX, 'cpu'), point(ACME, 'mem')]));

    expect(written).toHaveLength(2);
    expect(await valueOf(metrics, 'seismo_engine_points_stored_total')).toBe(5);
    expect(await valueOf(metrics, 'seismo_engine_anomalies_total')).toBe(2);
    expect(await valueOf(metrics, 'seismo_engine_dead_letters_total')).toBe(1);
  });

  it('times a failed write but counts nothing, so the retry that succeeds counts the batch once', async () => {
    const metrics = new SeismoMetrics(queue);
    let failures = 1;
    const flaky: BatchSink = {
      write: async () => {
        if (failures-- > 0) throw new Error('ClickHouse is away');
      },
    };
    const sink = new ObservedSink(flaky, metrics);
    const once = batch([point(ACME, 'cpu')], 1);

    await expect(sink.write(once)).rejects.toThrow('ClickHouse is away');
    expect(await valueOf(metrics, 'seismo_engine_points_stored_total')).toBe(0);
    await sink.write(once);

    expect(await valueOf(metrics, 'seismo_engine_points_stored_total')).toBe(1);
    expect(await valueOf(metrics, 'seismo_engine_anomalies_total')).toBe(1);
    expect(await valueOf(metrics, 'seismo_engine_batch_write_seconds_count')).toBe(2);
  });
});
