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

  it("reads the engine's series and state bytes on each scrape", async () => {
    const metrics = new SeismoMetrics({ partitions: 1, pendingBytes: () => 0 });
    expect(await metrics.exposition()).not.toContain('seismo_engine_series');
    const engine = { series: 2, seriesCount: () => engine.series, stateBytes: () => engine.series * 5000 };
    metrics.observeEngine(engine);
    expect(await metrics.exposition()).toContain('seismo_engine_state_bytes 10000');
    engine.series = 3;
    const text = await metrics.exposition();
    expect(text).toContain('seismo_engine_series 3');
    expect(text).toContain('seismo_engine_state_bytes 15000');
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

  it('reads the consumer lag on each scrape, and leaves the gauge empty while the queue cannot answer', async () => {
    let lag: () => Promise<readonly number[]> = () => Promise.resolve([3, 0]);
    const metrics = new SeismoMetrics({ partitions: 2, lag: () => lag() });

    let text = await metrics.exposition();
    expect(text).toContain('seismo_engine_consumer_lag_messages{partition="0"} 3');
    expect(text).toContain('seismo_engine_consumer_lag_messages{partition="1"} 0');
    expect(text).not.toContain('seismo_queue_pending_bytes');

    lag = () => Promise.reject(new Error('broker down'));
    text = await metrics.exposition();
    expect(text).toContain('# TYPE seismo_engine_consumer_lag_messages gauge');
    expect(text).not.toContain('seismo_engine_consumer_lag_messages{');
  });
});
