import { SeismoMetrics } from './seismo.metrics';

describe('SeismoMetrics', () => {
  it('keeps a registry per instance, so two runtimes in one process count apart', async () => {
    const queue = { partitions: 1, pendingBytes: () => 0 };
    const first = new SeismoMetrics(queue);
    const second = new SeismoMetrics(queue);

    first.ingestedPoints.inc({ format: 'json', outcome: 'accepted' }, 3);

    expect(await first.exposition()).toContain(
      'seismo_ingest_points_total{format="json",outcome="accepted"} 3',
    );
    expect(await second.exposition()).not.toContain('outcome="accepted"');
  });

  it('reads the queue on each scrape, one sample per partition', async () => {
    const pending = [10, 0, 7];
    const metrics = new SeismoMetrics({ partitions: 3, pendingBytes: (p) => pending[p] });

    expect(await metrics.exposition()).toContain('seismo_queue_pending_bytes{partition="2"} 7');
    pending[2] = 0;
    pending[0] = 42;
    const text = await metrics.exposition();
    expect(text).toContain('seismo_queue_pending_bytes{partition="0"} 42');
    expect(text).toContain('seismo_queue_pending_bytes{partition="2"} 0');
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
  });
});
