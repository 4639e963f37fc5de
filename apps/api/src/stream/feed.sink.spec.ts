import { type AnomalyEvent } from '@seismo/engine/pipeline/anomaly-event';
import { type ProcessedBatch } from '@seismo/engine/pipeline/processed-batch';
import { type BatchSink } from '@seismo/engine/pipeline/sink';
import { type AnomalyRecord, parseTenantId, type TenantId } from '@seismo/storage';
import { AnomalyFeed } from './anomaly.feed';
import { FeedSink } from './feed.sink';

const ACME = parseTenantId('acme');
const GLOBEX = parseTenantId('globex');

function anomaly(tenantId: TenantId, id: string): AnomalyRecord {
  return {
    tenantId,
    id,
    series: 'cpu',
    ts: Date.UTC(2026, 0, 1),
    value: 99,
    score: 0.9,
    severity: 'critical',
    detectors: ['ensemble'],
    context: { ts: [], values: [] },
    explanation: null,
    revision: 0,
    createdAt: 0,
    retentionDays: 30,
  };
}

function batch(anomalies: AnomalyRecord[]): ProcessedBatch {
  return { partition: 0, firstOffset: 0, lastOffset: 0, points: [], anomalies, usage: [], deadLetters: [] };
}

describe('FeedSink', () => {
  it("announces a batch's anomalies to their tenants once the inner write resolved", async () => {
    const feed = new AnomalyFeed();
    const events: AnomalyEvent[] = [];
    const globex: string[] = [];
    feed.subscribe(ACME, (e) => events.push(e));
    feed.subscribe(GLOBEX, (e) => globex.push(e.id));
    let release!: () => void;
    const inner: BatchSink = { write: () => new Promise<void>((resolve) => (release = resolve)) };
    const sink = new FeedSink(inner, feed);

    const written = sink.write(batch([anomaly(ACME, 'a1'), anomaly(GLOBEX, 'g1'), anomaly(ACME, 'a2')]));
    // Let the write reach the inner sink: nothing is announced while it is not durable.
    await Promise.resolve();
    expect(events).toEqual([]);
    release();
    await written;

    expect(events.map((e) => e.id)).toEqual(['a1', 'a2']);
    expect(events[0]).toMatchObject({
      v: 1,
      tenant_id: 'acme',
      series: 'cpu',
      ts: '2026-01-01T00:00:00.000Z',
    });
    expect(globex).toEqual(['g1']);
  });

  it('announces nothing when the inner write fails, and the batch when its retry succeeds', async () => {
    const feed = new AnomalyFeed();
    const seen: string[] = [];
    feed.subscribe(ACME, (e) => seen.push(e.id));
    let failures = 1;
    const flaky: BatchSink = {
      write: async () => {
        if (failures-- > 0) throw new Error('ClickHouse is down');
      },
    };
    const sink = new FeedSink(flaky, feed);
    const b = batch([anomaly(ACME, 'a1')]);

    await expect(sink.write(b)).rejects.toThrow('ClickHouse is down');
    expect(seen).toEqual([]);
    await sink.write(b);
    expect(seen).toEqual(['a1']);
  });

  it('builds no event for a tenant nobody watches', async () => {
    const feed = new AnomalyFeed();
    const publish = jest.spyOn(feed, 'publish');
    const sink = new FeedSink({ write: async () => undefined }, feed);

    await sink.write(batch([anomaly(ACME, 'a1')]));

    expect(publish).not.toHaveBeenCalled();
  });
});
