import { IngestExceptionCode } from '@seismo/ingest';
import { IngestDecoderPool } from '../src/ingest/ingest-decoder.pool';
import { type DecodeOutcome, type DecodeTask } from '../src/ingest/ingest-decoding';

const NOW = Date.UTC(2031, 0, 1);

function task(format: DecodeTask['format'], body: string): DecodeTask {
  return { format, body: Buffer.from(body), now: NOW, tenant: 'acme' };
}

// The threads run the built worker (the e2e tier builds first), as `seismo serve` does.
describe('IngestDecoderPool on worker threads', () => {
  const threaded = new IngestDecoderPool(2);
  const inline = new IngestDecoderPool(0);
  afterAll(async () => {
    await threaded.close();
    await inline.close();
  });

  it('decodes on its threads exactly as on the main thread, refusals included', async () => {
    const points = Array.from({ length: 2000 }, (_, i) => ({
      series: 'latency',
      labels: { host: `h${i % 50}`, region: 'eu' },
      ts: NOW - 2000 * 1000 + i * 1000,
      value: Math.sin(i),
    }));
    const tasks = [
      task('json', JSON.stringify({ points })),
      task('json', JSON.stringify({ points: [{ series: 'x', ts: NOW, value: 'NaN' }, points[0]] })),
      task('json', '{"points": ['),
      task('influx', `cpu,host=a usage=1 ${NOW * 1e6}\nbad line\n`),
      task('remote_write', 'garbage'),
    ];
    // Columns come back from a thread as copies: compared by their contents.
    const comparable = (outcome: DecodeOutcome) =>
      outcome.ok
        ? {
            ...outcome,
            origins: [...outcome.origins],
            points: {
              ...outcome.points,
              t: [...outcome.points.t],
              value: [...outcome.points.value],
              seriesIndex: [...outcome.points.seriesIndex],
            },
          }
        : outcome;
    const onThreads = (await Promise.all(tasks.map((t) => threaded.decode(t)))).map(comparable);
    const onMain = (await Promise.all(tasks.map((t) => inline.decode(t)))).map(comparable);
    expect(onThreads).toEqual(onMain);
    expect(onThreads[0]).toMatchObject({ ok: true, rejected: [] });
    expect(onThreads[0].ok && onThreads[0].points.t).toHaveLength(2000);
    expect(onThreads[2]).toMatchObject({ ok: false, code: IngestExceptionCode.MALFORMED_BODY });
  });

  it('takes many requests at once', async () => {
    const body = JSON.stringify({ points: [{ series: 'cpu', ts: NOW, value: 1 }] });
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, () => threaded.decode(task('json', body))),
    );
    expect(outcomes.every((o) => o.ok && o.points.t.length === 1)).toBe(true);
  });

  it('refuses a negative thread count', () => {
    expect(() => new IngestDecoderPool(-1)).toThrow(/threads must be a non-negative integer, got -1/);
  });
});
