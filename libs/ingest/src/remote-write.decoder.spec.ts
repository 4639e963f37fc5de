import fc from 'fast-check';
import { parse } from 'protobufjs';
import { compressSync } from 'snappy';
import { IngestException, IngestExceptionCode } from './ingest.exception';
import { ingestLimits } from './ingest-limits';
import { RemoteWriteDecoder } from './remote-write.decoder';

const NOW = Date.UTC(2024, 4, 1, 12);
const decoder = new RemoteWriteDecoder();

/** Prometheus' own schema (prompb), as senders encode with it: `double` values, exemplars, histograms, metadata. */
const UPSTREAM = parse(
  `
  syntax = "proto3";
  package prometheus;
  message WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
  message MetricMetadata { int32 type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
  message TimeSeries {
    repeated Label labels = 1;
    repeated Sample samples = 2;
    repeated Exemplar exemplars = 3;
    repeated Histogram histograms = 4;
  }
  message Label { string name = 1; string value = 2; }
  message Sample { double value = 1; int64 timestamp = 2; }
  message Exemplar { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
  message Histogram { uint64 count_int = 1; double sum = 3; sint32 schema = 4; int64 timestamp = 15; }
  `,
  { keepCase: true },
).root.lookupType('prometheus.WriteRequest');

/** The same messages with a sample's value as its raw bits, to write NaNs whose bits matter. */
const BITS = parse(
  `
  syntax = "proto3";
  package prometheus;
  message WriteRequest { repeated TimeSeries timeseries = 1; }
  message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
  message Label { string name = 1; string value = 2; }
  message Sample { fixed64 value = 1; int64 timestamp = 2; }
  `,
  { keepCase: true },
).root.lookupType('prometheus.WriteRequest');

type Labels = Record<string, string>;

function series(labels: Labels, samples: Array<[number, number]>, extra: object = {}) {
  return {
    labels: Object.entries(labels).map(([name, value]) => ({ name, value })),
    samples: samples.map(([value, timestamp]) => ({ value, timestamp })),
    ...extra,
  };
}

function body(request: object, type = UPSTREAM): Buffer {
  return compressSync(Buffer.from(type.encode(type.fromObject(request)).finish()));
}

/** A double's bits, in the shape protobufjs takes for a 64-bit field. */
function bits(high: number, low: number) {
  return { high, low, unsigned: true };
}

function requestError(bytes: Uint8Array, remoteWrite = decoder): IngestException {
  try {
    remoteWrite.decode(bytes, NOW);
  } catch (error) {
    if (error instanceof IngestException) return error;
    throw error;
  }
  throw new Error('decoded without an error');
}

describe('RemoteWriteDecoder', () => {
  it('makes a point of each sample, the metric from __name__ and the other labels sorted', () => {
    const result = decoder.decode(
      body({
        timeseries: [
          series({ __name__: 'http_requests_total', job: 'api', code: '200' }, [
            [10, NOW - 30_000],
            [12, NOW - 15_000],
          ]),
          series({ instance: 'a:9100', __name__: 'up', job: 'node' }, [[1, NOW]]),
        ],
        metadata: [{ type: 1, metric_family_name: 'up', help: 'whether the target is up' }],
      }),
      NOW,
    );
    expect(result).toEqual({
      points: [
        {
          series: 'http_requests_total{code="200",job="api"}',
          metric: 'http_requests_total',
          labels: { code: '200', job: 'api' },
          t: NOW - 30_000,
          value: 10,
        },
        {
          series: 'http_requests_total{code="200",job="api"}',
          metric: 'http_requests_total',
          labels: { code: '200', job: 'api' },
          t: NOW - 15_000,
          value: 12,
        },
        {
          series: 'up{instance="a:9100",job="node"}',
          metric: 'up',
          labels: { instance: 'a:9100', job: 'node' },
          t: NOW,
          value: 1,
        },
      ],
      rejected: [],
      skipped: 0,
      // Each point names the series it came from, as a rejection of it would.
      origins: [0, 0, 1],
    });
  });

  it('ignores exemplars, and drops empty-valued labels', () => {
    const exemplars = [{ labels: [{ name: 'trace_id', value: 'abc' }], value: 0.3, timestamp: NOW }];
    const result = decoder.decode(
      body({ timeseries: [series({ __name__: 'm', env: '' }, [[0.5, NOW]], { exemplars })] }),
      NOW,
    );
    expect(result.points).toEqual([{ series: 'm', metric: 'm', labels: {}, t: NOW, value: 0.5 }]);
  });

  it('skips stale markers, counting them, and refuses any other NaN', () => {
    const result = decoder.decode(
      body(
        {
          timeseries: [
            {
              labels: [{ name: '__name__', value: 'up' }],
              samples: [
                { value: bits(0x3ff00000, 0), timestamp: NOW - 2000 }, // 1.0
                { value: bits(0x7ff00000, 2), timestamp: NOW - 1000 }, // Prometheus' StaleNaN
                { value: bits(0x7ff80000, 1), timestamp: NOW }, // another NaN
              ],
            },
          ],
        },
        BITS,
      ),
      NOW,
    );
    expect(result.points.map((p) => p.value)).toEqual([1]);
    expect(result.skipped).toBe(1);
    expect(result.rejected).toEqual([
      { index: 0, error: 'timeseries[0].samples[2].value: must be a finite number, got NaN' },
    ]);
  });

  it('refuses bad samples one by one, keeping their neighbours', () => {
    const result = decoder.decode(
      body({
        timeseries: [
          series({ __name__: 'a' }, [
            [1, NOW],
            [Infinity, NOW],
            [3, NOW - 8 * 86_400_000],
            [4, NOW],
          ]),
          series({ __name__: 'b' }, [[5, NOW]]),
        ],
      }),
      NOW,
    );
    expect(result.points.map((p) => `${p.metric} ${p.value}`)).toEqual(['a 1', 'a 4', 'b 5']);
    expect(result.rejected).toEqual([
      { index: 0, error: 'timeseries[0].samples[1].value: must be a finite number, got Infinity' },
      {
        index: 0,
        error:
          'timeseries[0].samples[2].timestamp: 2024-04-23T12:00:00.000Z is too far in the past (accepted: 7d before now to 10m after)',
      },
    ]);
  });

  describe('refuses a series once, with all its samples', () => {
    it.each([
      ['without __name__', { job: 'x' }, 'timeseries[0].labels: no __name__ label (the metric name)'],
      ['with an empty __name__', { __name__: '' }, 'timeseries[0].labels.__name__: must not be empty'],
      [
        'with a metric name outside the Prometheus charset',
        { __name__: 'cpu.load' },
        'timeseries[0].labels.__name__: must match [a-zA-Z_:][a-zA-Z0-9_:]* (a Prometheus metric name), got "cpu.load"',
      ],
      [
        'with a label name outside the Prometheus charset',
        { __name__: 'up', 'k8s.pod': 'x' },
        'timeseries[0].labels["k8s.pod"]: name must match [a-zA-Z_][a-zA-Z0-9_]* (a Prometheus label name), got "k8s.pod"',
      ],
      [
        'with another reserved label',
        { __name__: 'up', __replica__: 'r1' },
        'timeseries[0].labels.__replica__: name is reserved: names starting with "__" are for internal use',
      ],
      [
        'with a control character in a value',
        { __name__: 'up', job: 'a\nb' },
        'timeseries[0].labels.job: value contains a control character (U+000A)',
      ],
    ])('%s', (_, labels, error) => {
      const result = decoder.decode(
        body({
          timeseries: [
            series(labels, [
              [1, NOW],
              [2, NOW],
            ]),
            series({ __name__: 'ok' }, [[3, NOW]]),
          ],
        }),
        NOW,
      );
      expect(result.points.map((p) => p.metric)).toEqual(['ok']);
      expect(result.rejected).toEqual([{ index: 0, error }]);
    });

    it('with __name__ given twice', () => {
      const request = {
        timeseries: [
          {
            labels: [
              { name: '__name__', value: 'a' },
              { name: '__name__', value: 'b' },
            ],
            samples: [{ value: 1, timestamp: NOW }],
          },
        ],
      };
      expect(decoder.decode(body(request), NOW).rejected).toEqual([
        { index: 0, error: 'timeseries[0].labels: __name__ given more than once' },
      ]);
    });

    it('with native histograms, reported once per series', () => {
      const histograms = [
        { count_int: 3, sum: 1.5, schema: 0, timestamp: NOW },
        { count_int: 4, sum: 2, schema: 0, timestamp: NOW },
      ];
      const result = decoder.decode(
        body({
          timeseries: [
            series({ __name__: 'latency' }, [], { histograms }),
            series({ __name__: 'up' }, [[1, NOW]]),
          ],
        }),
        NOW,
      );
      expect(result.points.map((p) => p.metric)).toEqual(['up']);
      expect(result.rejected).toEqual([
        { index: 0, error: 'timeseries[0].histograms: native histograms are not supported (2 dropped)' },
      ]);
    });
  });

  it('takes any names but control characters with the printable charset', () => {
    const loose = new RemoteWriteDecoder({ charset: 'printable' });
    const result = loose.decode(
      body({ timeseries: [series({ __name__: 'cpu.load', 'k8s.pod': 'x' }, [[1, NOW]])] }),
      NOW,
    );
    expect(result.points.map((p) => p.series)).toEqual(['{"cpu.load","k8s.pod"="x"}']);
  });

  it('reads a body as a plain Uint8Array too', () => {
    const bytes = new Uint8Array(body({ timeseries: [series({ __name__: 'up' }, [[1, NOW]])] }));
    expect(decoder.decode(bytes, NOW).points).toHaveLength(1);
  });

  describe('refuses the whole request', () => {
    it('for a body that is not snappy data', () => {
      const error = requestError(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
      expect(error.code).toBe(IngestExceptionCode.MALFORMED_BODY);
      expect(error.message).toMatch(/^body: not snappy-compressed \(block format\) data: /);
    });

    it('for a crafted block whose 4-byte literal length overflows, which hangs snappyjs for seconds', () => {
      const crafted = Buffer.from(
        '940dd05bc18879f73bcd5d893ee021e88a4babfefff2c1a377bfbd6f5319e7687afeb08edcc569fbba96ca6709222561be0d3108e2bf6dc7fc4a6f08bc85',
        'hex',
      );
      expect(requestError(crafted).code).toBe(IngestExceptionCode.MALFORMED_BODY);
    });

    it('for an empty body', () => {
      expect(requestError(Buffer.alloc(0)).code).toBe(IngestExceptionCode.MALFORMED_BODY);
    });

    it('for snappy data that is not a WriteRequest', () => {
      const error = requestError(compressSync(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01])));
      expect(error.code).toBe(IngestExceptionCode.MALFORMED_BODY);
      expect(error.message).toMatch(/^body: not a remote_write 1\.0 WriteRequest: /);
    });

    it('when its snappy header announces more than the decompressed limit, before inflating it', () => {
      // A 5-byte header claiming 4 GiB - 1: nothing of that size may be allocated.
      const error = requestError(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]));
      expect(error.code).toBe(IngestExceptionCode.TOO_LARGE);
      expect(error.message).toBe('body: decompresses to 4294967295 bytes, more than the limit of 33554432');
    });

    it('over the body size limit', () => {
      const small = new RemoteWriteDecoder({ limits: ingestLimits({ maxBodyBytes: 4 }) });
      const error = requestError(body({ timeseries: [series({ __name__: 'up' }, [[1, NOW]])] }), small);
      expect(error.code).toBe(IngestExceptionCode.TOO_LARGE);
      expect(error.message).toBe('body: more than the limit of 4 bytes');
    });

    it('with more samples than the limit', () => {
      const small = new RemoteWriteDecoder({ limits: ingestLimits({ maxPointsPerRequest: 2 }) });
      const error = requestError(
        body({
          timeseries: [
            series({ __name__: 'a' }, [
              [1, NOW],
              [2, NOW],
            ]),
            series({ __name__: 'b' }, [[3, NOW]]),
          ],
        }),
        small,
      );
      expect(error.code).toBe(IngestExceptionCode.TOO_LARGE);
      expect(error.message).toBe('body: 3 samples, more than the limit of 2 per request');
    });
  });

  describe('properties', () => {
    it('reads every finite double exactly, at any millisecond of the window', () => {
      const sample = fc.tuple(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer({ min: NOW - 7 * 86_400_000, max: NOW + 600_000 }),
      );
      fc.assert(
        fc.property(fc.array(sample, { minLength: 1, maxLength: 20 }), (samples) => {
          const result = decoder.decode(body({ timeseries: [series({ __name__: 'm' }, samples)] }), NOW);
          expect(result.rejected).toEqual([]);
          expect(result.points.map((p) => [p.value, p.t])).toEqual(samples);
        }),
      );
    });

    it('never throws anything but an IngestException, whatever the bytes', () => {
      const bytes = fc.uint8Array({ maxLength: 200 });
      fc.assert(
        fc.property(bytes, fc.boolean(), (raw, compressed) => {
          try {
            decoder.decode(compressed ? compressSync(raw) : raw, NOW);
          } catch (error) {
            expect(error).toBeInstanceOf(IngestException);
          }
        }),
      );
    });
  });
});
