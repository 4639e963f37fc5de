import fc from 'fast-check';
import { InfluxLineDecoder } from './influx-line.decoder';
import { type InfluxPrecision, parseInfluxPrecision } from './influx-precision';
import { IngestException, IngestExceptionCode } from './ingest.exception';
import { ingestLimits } from './ingest-limits';

const NOW = Date.UTC(2024, 4, 1, 12);
const NOW_NS = `${NOW}000000`;
const decoder = new InfluxLineDecoder();

describe('InfluxLineDecoder', () => {
  it('makes one point per numeric field, named <measurement>_<field>, with the tags as labels', () => {
    const body = [
      `cpu,host=web-1,cpu=cpu-total usage_idle=97.5,usage_user=1.25 ${NOW_NS}`,
      `mem,host=web-1 used=123456789i,available_percent=42 ${NOW_NS}`,
    ].join('\n');
    const result = decoder.decode(body, NOW);
    expect(result.rejected).toEqual([]);
    expect(result.points).toEqual([
      {
        series: 'cpu_usage_idle{cpu="cpu-total",host="web-1"}',
        metric: 'cpu_usage_idle',
        labels: { cpu: 'cpu-total', host: 'web-1' },
        t: NOW,
        value: 97.5,
      },
      {
        series: 'cpu_usage_user{cpu="cpu-total",host="web-1"}',
        metric: 'cpu_usage_user',
        labels: { cpu: 'cpu-total', host: 'web-1' },
        t: NOW,
        value: 1.25,
      },
      {
        series: 'mem_used{host="web-1"}',
        metric: 'mem_used',
        labels: { host: 'web-1' },
        t: NOW,
        value: 123456789,
      },
      {
        series: 'mem_available_percent{host="web-1"}',
        metric: 'mem_available_percent',
        labels: { host: 'web-1' },
        t: NOW,
        value: 42,
      },
    ]);
  });

  it('keeps the field key alone as the metric in measurement "prometheus", as Telegraf does', () => {
    const [point] = decoder.decode(`prometheus,job=api http_requests_total=10 ${NOW_NS}`, NOW).points;
    expect(point.series).toBe('http_requests_total{job="api"}');
  });

  it('reads booleans as 1 and 0, and skips string fields, counting them', () => {
    const result = decoder.decode(`svc up=true,degraded=F,state="running",version="1.2" ${NOW_NS}`, NOW);
    expect(result.points.map((p) => [p.metric, p.value])).toEqual([
      ['svc_up', 1],
      ['svc_degraded', 0],
    ]);
    expect(result.skipped).toBe(2);
    expect(result.rejected).toEqual([]);
  });

  it('keeps the last of a field key given twice', () => {
    expect(decoder.decode(`m f=1,g=2,f=3 ${NOW_NS}`, NOW).points.map((p) => [p.metric, p.value])).toEqual([
      ['m_f', 3],
      ['m_g', 2],
    ]);
  });

  it('puts a line without a timestamp at now', () => {
    expect(decoder.decode('m f=1', NOW).points[0].t).toBe(NOW);
  });

  it.each<[InfluxPrecision, string]>([
    ['ns', `${NOW + 5}999999`],
    ['us', `${NOW + 5}999`],
    ['ms', `${NOW + 5}`],
    ['s', `${(NOW - 5000) / 1000}`],
    ['m', `${(NOW - 60_000) / 60_000}`],
    ['h', `${NOW / 3_600_000}`],
  ])('reads timestamps in precision %s, flooring to the millisecond', (precision, digits) => {
    const expected = { ns: NOW + 5, us: NOW + 5, ms: NOW + 5, s: NOW - 5000, m: NOW - 60_000, h: NOW }[
      precision
    ];
    expect(decoder.decode(`m f=1 ${digits}`, NOW, precision).points[0].t).toBe(expected);
  });

  it('still accepts the valid lines and fields around bad ones, with line numbers as indices', () => {
    const body = [
      '# from telegraf',
      `ok,host=a f=1 ${NOW_NS}`,
      `bad,host=a f=oops ${NOW_NS}`,
      `half,host=a good=2,inf=1e400 ${NOW_NS}`,
      '',
      `ok,host=b f=3 ${NOW_NS}`,
    ].join('\n');
    const result = decoder.decode(body, NOW);
    expect(result.points.map((p) => `${p.series} ${p.value}`)).toEqual([
      'ok_f{host="a"} 1',
      'half_good{host="a"} 2',
      'ok_f{host="b"} 3',
    ]);
    expect(result.rejected).toEqual([
      { index: 3, error: 'line 3 field "f": "oops" is not a number, a boolean or a double-quoted string' },
      { index: 4, error: 'line 4 field "inf": must be a finite number, got Infinity' },
    ]);
  });

  describe('refuses a line, naming the part at fault', () => {
    it.each([
      [
        'a timestamp before the window',
        `m f=1 ${NOW - 8 * 86_400_000}000000`,
        /^line 1 timestamp: 2024-04-23T12:00:00\.000Z is too far in the past \(accepted: 7d before now to 10m after\)$/,
      ],
      [
        'a timestamp beyond 64 bits',
        'm f=1 9223372036854775808',
        /^line 1 timestamp: 9223372036854775808 is outside the signed 64-bit range$/,
      ],
      [
        'a C1 control character in a tag value',
        `m,host=a\u0085 f=1 ${NOW_NS}`,
        /^line 1 tag "host": value contains a control character \(U\+0085\)$/,
      ],
      ['a reserved tag key', `m,__name__=x f=1 ${NOW_NS}`, /^line 1 tag "__name__": name is reserved/],
      ['a tag key given twice', `m,a=1,a=2 f=1 ${NOW_NS}`, /^line 1 tag "a": label given more than once$/],
      [
        'a metric name over the limit',
        `${'m'.repeat(251)} field=1 ${NOW_NS}`,
        /^line 1 measurement and field "field": has 257 characters, more than the limit of 256$/,
      ],
    ])('with %s', (_, body, error) => {
      const result = decoder.decode(body, NOW);
      expect(result.points).toEqual([]);
      expect(result.rejected).toHaveLength(1);
      expect(result.rejected[0].index).toBe(1);
      expect(result.rejected[0].error).toMatch(error);
    });

    it('with too many tags', () => {
      const tags = Array.from({ length: 31 }, (_, i) => `,t${i}=v`).join('');
      expect(decoder.decode(`m${tags} f=1 ${NOW_NS}`, NOW).rejected).toEqual([
        { index: 1, error: 'line 1 tags: 31 labels, more than the limit of 30' },
      ]);
    });

    it.each<[InfluxPrecision, string, string]>([
      ['ns', `${NOW / 1000}`, 's'],
      ['ns', `${NOW}`, 'ms'],
      ['s', `${NOW}000000`, 'ns'],
    ])(
      'with a timestamp in another unit than precision=%s, suggesting the one that fits',
      (precision, digits, fits) => {
        const [rejection] = decoder.decode(`m f=1 ${digits}`, NOW, precision).rejected;
        expect(rejection.error).toMatch(
          new RegExp(`; it fits with precision=${fits}, which the request did not give$`),
        );
      },
    );
  });

  it('refuses only the lines with invalid UTF-8, keeping a real U+FFFD elsewhere', () => {
    const body = Buffer.concat([
      Buffer.from(`a f=1 ${NOW_NS}\nb,t=`),
      Buffer.from([0xc3, 0x28]),
      Buffer.from(` f=2 ${NOW_NS}\nc,t=\uFFFD f=3 ${NOW_NS}\n`),
    ]);
    const result = decoder.decode(body, NOW);
    expect(result.points.map((p) => p.metric)).toEqual(['a_f']);
    expect(result.rejected).toEqual([
      { index: 2, error: 'line 2: not valid UTF-8' },
      { index: 3, error: 'line 3: not valid UTF-8' },
    ]);
    expect(decoder.decode(`c,t=\uFFFD f=3 ${NOW_NS}`, NOW).points[0].labels).toEqual({ t: '\uFFFD' });
  });

  it('ignores a byte order mark before the first line', () => {
    expect(decoder.decode(`\uFEFFm f=1 ${NOW_NS}`, NOW).points[0].metric).toBe('m_f');
    expect(decoder.decode(Buffer.from(`\uFEFFm f=1 ${NOW_NS}`), NOW).points[0].metric).toBe('m_f');
  });

  it('uses the prometheus charset when asked to', () => {
    const strict = new InfluxLineDecoder({ charset: 'prometheus' });
    expect(strict.decode(`disk-io,host=a reads=1 ${NOW_NS}`, NOW).rejected[0].error).toMatch(
      /^line 1 measurement and field "reads": must match \[a-zA-Z_:\]\[a-zA-Z0-9_:\]\* \(a Prometheus metric name\)/,
    );
  });

  describe('refuses the whole request', () => {
    it('over the body size limit', () => {
      const small = new InfluxLineDecoder({ limits: ingestLimits({ maxBodyBytes: 8 }) });
      expect(() => small.decode(Buffer.from('m f=1 123'), NOW)).toThrow(
        new IngestException(IngestExceptionCode.TOO_LARGE, 'body: more than the limit of 8 bytes'),
      );
    });

    it('over the line limit', () => {
      const small = new InfluxLineDecoder({ limits: ingestLimits({ maxPointsPerRequest: 2 }) });
      expect(small.decode('a f=1\nb f=2\n# c f=3', NOW).points).toHaveLength(2);
      expect(() => small.decode('a f=1\nb f=2\nc f=3', NOW)).toThrow(
        'body: 3 lines, more than the limit of 2 per request',
      );
    });
  });

  describe('properties', () => {
    const text = fc.string({
      unit: fc.oneof(
        fc.constantFrom(',', '=', ' ', '"', '\\', '\n', 'i', 't', '1', '0', '-', '.', 'e', 'm', 'f'),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      ),
      maxLength: 100,
    });

    it('never throws, and indexes every error by a line of the body', () => {
      fc.assert(
        fc.property(text, fc.constantFrom<InfluxPrecision>('ns', 's'), (body, precision) => {
          const result = decoder.decode(body, NOW, precision);
          const lines = body.split('\n').length;
          for (const { index, error } of result.rejected) {
            expect(index).toBeGreaterThanOrEqual(1);
            expect(index).toBeLessThanOrEqual(lines);
            expect(error.startsWith(`line ${index}`)).toBe(true);
          }
        }),
      );
    });
  });
});

describe('parseInfluxPrecision', () => {
  it.each([
    [undefined, 'ns'],
    ['', 'ns'],
    ['ns', 'ns'],
    ['n', 'ns'],
    ['us', 'us'],
    ['u', 'us'],
    ['ms', 'ms'],
    ['s', 's'],
    ['m', 'm'],
    ['h', 'h'],
  ])('reads %j as %s', (parameter, precision) => {
    expect(parseInfluxPrecision(parameter)).toBe(precision);
  });

  it.each(['sec', 'MS', 'toString', '__proto__'])('refuses %j, naming the parameter', (parameter) => {
    expect(() => parseInfluxPrecision(parameter)).toThrow(
      new IngestException(
        IngestExceptionCode.BAD_PARAMETER,
        `precision: must be one of ns, us, ms, s (or InfluxDB 1.x's n, u, m, h), got ${JSON.stringify(parameter)}`,
      ),
    );
  });
});
