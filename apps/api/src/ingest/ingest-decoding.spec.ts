import { IngestExceptionCode } from '@seismo/ingest';
import { decodePointBatch, partitionOf } from '@seismo/pipeline';
import { IngestDecoders } from './ingest-decoding';

const NOW = Date.UTC(2031, 0, 1);

function json(body: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(body));
}

describe('IngestDecoders', () => {
  const decoders = new IngestDecoders();

  it('cuts the accepted points into one batch per partition, each series on its own partition, in order', () => {
    const points = Array.from({ length: 40 }, (_, i) => ({
      series: `cpu`,
      labels: { host: `h${i % 8}` },
      ts: NOW - 40_000 + i * 1000,
      value: i,
    }));
    const outcome = decoders.decode({
      format: 'json',
      body: json({
        points: [...points.slice(0, 20), { series: 'cpu', ts: NOW, value: 'x' }, ...points.slice(20)],
      }),
      now: NOW,
      tenant: 'acme',
      partitions: 3,
    });
    if (!outcome.ok) throw new Error(outcome.message);
    expect(outcome.accepted).toBe(40);
    expect(outcome.rejected).toEqual([{ index: 20, error: expect.stringMatching(/^points\[20\]\.value: /) }]);
    const seen: Array<[string, number, number]> = [];
    for (const { partition, bytes } of outcome.messages) {
      const batch = decodePointBatch(bytes);
      expect(batch.tenant).toBe('acme');
      for (let i = 0; i < batch.t.length; i++) {
        const series = batch.series[batch.seriesIndex[i]];
        expect(partitionOf('acme', series, 3)).toBe(partition);
        seen.push([series, batch.t[i], batch.value[i]]);
      }
    }
    const bySeries = (s: string) => seen.filter(([name]) => name === s).map(([, t]) => t);
    expect(bySeries('cpu{host="h0"}')).toEqual([0, 8, 16, 24, 32].map((i) => NOW - 40_000 + i * 1000));
    expect(seen).toHaveLength(40);
  });

  it('reads Influx line protocol at the precision given, and remote_write', () => {
    const influx = decoders.decode({
      format: 'influx',
      body: Buffer.from(`cpu,host=a usage=1.5 ${NOW / 1000}\n`),
      now: NOW,
      precision: 's',
      tenant: 'acme',
      partitions: 1,
    });
    expect(influx.ok && decodePointBatch(influx.messages[0].bytes).t[0]).toBe(NOW);
    const remoteWrite = decoders.decode({
      format: 'remote_write',
      body: Buffer.from('not snappy'),
      now: NOW,
      tenant: 'acme',
      partitions: 1,
    });
    expect(remoteWrite).toEqual({
      ok: false,
      code: IngestExceptionCode.MALFORMED_BODY,
      message: expect.any(String),
    });
  });

  it.each([
    ['{"points": [', expect.stringMatching(/^body: not valid JSON/)],
    ['{"points": [], "extra": 1}', 'extra: unknown field (the body has only "points")'],
  ])('answers a body it cannot read (%s) with the code and message of the refusal', (body, message) => {
    const task = { format: 'json' as const, body: Buffer.from(body), now: NOW, tenant: 'a', partitions: 1 };
    expect(decoders.decode(task)).toEqual({ ok: false, code: IngestExceptionCode.MALFORMED_BODY, message });
  });
});
