import { IngestExceptionCode } from '@seismo/ingest';
import { IngestDecoders } from './ingest-decoding';

const NOW = Date.UTC(2031, 0, 1);

function json(body: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(body));
}

describe('IngestDecoders', () => {
  const decoders = new IngestDecoders();

  it('decodes the accepted points into columns, each with where it stood in the request', () => {
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
    });
    if (!outcome.ok) throw new Error(outcome.message);
    expect(outcome.rejected).toEqual([{ index: 20, error: expect.stringMatching(/^points\[20\]\.value: /) }]);
    const { tenant, series, seriesIndex, t, value } = outcome.points;
    expect(tenant).toBe('acme');
    expect(series).toHaveLength(8);
    expect(t).toHaveLength(40);
    // The refused point is not among them; the origins skip its index.
    expect([...outcome.origins]).toEqual([
      ...Array.from({ length: 20 }, (_, i) => i),
      ...Array.from({ length: 20 }, (_, i) => i + 21),
    ]);
    expect(series[seriesIndex[9]]).toBe('cpu{host="h1"}');
    expect([t[9], value[9]]).toEqual([NOW - 40_000 + 9 * 1000, 9]);
  });

  it('reads Influx line protocol at the precision given, and remote_write', () => {
    const influx = decoders.decode({
      format: 'influx',
      body: Buffer.from(`cpu,host=a usage=1.5 ${NOW / 1000}\n`),
      now: NOW,
      precision: 's',
      tenant: 'acme',
    });
    expect(influx.ok && influx.points.t[0]).toBe(NOW);
    const remoteWrite = decoders.decode({
      format: 'remote_write',
      body: Buffer.from('not snappy'),
      now: NOW,
      tenant: 'acme',
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
    const task = { format: 'json' as const, body: Buffer.from(body), now: NOW, tenant: 'a' };
    expect(decoders.decode(task)).toEqual({ ok: false, code: IngestExceptionCode.MALFORMED_BODY, message });
  });
});
