import fc from 'fast-check';
import { IngestException, IngestExceptionCode } from './ingest.exception';
import { ingestLimits } from './ingest-limits';
import { JsonPointsDecoder } from './json-points.decoder';

const NOW = Date.UTC(2024, 4, 1, 12);
const decoder = new JsonPointsDecoder();

function rejectionOf(point: unknown): string {
  const result = decoder.decode({ points: [point] }, NOW);
  expect(result.points).toEqual([]);
  return result.rejected[0]?.error;
}

function requestError(body: unknown, jsonDecoder = decoder): IngestException {
  try {
    jsonDecoder.decode(body, NOW);
  } catch (error) {
    if (error instanceof IngestException) return error;
    throw error;
  }
  throw new Error('decoded without an error');
}

describe('JsonPointsDecoder', () => {
  it('reads points with epoch milliseconds or RFC 3339 timestamps, labels optional', () => {
    const result = decoder.decode(
      {
        points: [
          { series: 'cpu.load', ts: NOW - 1000, value: 0.5 },
          {
            series: 'latency',
            ts: '2024-05-01T13:59:00+02:00',
            value: -2,
            labels: { region: 'eu', host: 'a' },
          },
          {
            series: 'latency',
            ts: '2024-05-01T11:58:59.123456Z',
            value: 1e300,
            labels: { host: 'a', region: 'eu' },
          },
        ],
      },
      NOW,
    );
    expect(result.rejected).toEqual([]);
    expect(result.points).toEqual([
      { series: '{"cpu.load"}', metric: 'cpu.load', labels: {}, t: NOW - 1000, value: 0.5 },
      {
        series: 'latency{host="a",region="eu"}',
        metric: 'latency',
        labels: { host: 'a', region: 'eu' },
        t: NOW - 60_000,
        value: -2,
      },
      {
        series: 'latency{host="a",region="eu"}',
        metric: 'latency',
        labels: { host: 'a', region: 'eu' },
        t: NOW - 60_877,
        value: 1e300,
      },
    ]);
  });

  it('takes the body as text, as bytes, or parsed', () => {
    const body = { points: [{ series: 's', ts: NOW, value: 1 }] };
    const text = JSON.stringify(body);
    for (const form of [body, text, Buffer.from(text), new TextEncoder().encode(text)]) {
      expect(decoder.decode(form, NOW).points).toHaveLength(1);
    }
  });

  it('still accepts the valid neighbours of bad points, and indexes the bad ones', () => {
    const result = decoder.decode(
      {
        points: [
          { series: 'ok', ts: NOW, value: 1 },
          { series: 'bad', ts: NOW, value: 'NaN' },
          { series: 'ok', ts: NOW, value: 2 },
          { series: 'bad', ts: 'yesterday', value: 3 },
        ],
      },
      NOW,
    );
    expect(result.points.map((p) => p.value)).toEqual([1, 2]);
    expect(result.rejected).toEqual([
      { index: 1, error: 'points[1].value: must be a finite number, got "NaN"' },
      {
        index: 3,
        error:
          'points[3].ts: must be epoch milliseconds or an RFC 3339 timestamp with a zone, like "2024-05-01T12:00:00Z", got "yesterday"',
      },
    ]);
    expect(result.skipped).toBe(0);
  });

  describe('refuses a point, naming the field', () => {
    it.each([
      ['that is not an object', 42, 'points[0]: must be an object, got 42'],
      ['that is null', null, 'points[0]: must be an object, got null'],
      ['without series', { ts: NOW, value: 1 }, 'points[0].series: required'],
      ['without ts', { series: 's', value: 1 }, 'points[0].ts: required'],
      ['without value', { series: 's', ts: NOW }, 'points[0].value: required'],
      [
        'with a number for series',
        { series: 7, ts: NOW, value: 1 },
        'points[0].series: must be a string (the metric name), got 7',
      ],
      [
        'with a string value',
        { series: 's', ts: NOW, value: '1.5' },
        'points[0].value: must be a finite number, got "1.5"',
      ],
      [
        'with a null value',
        { series: 's', ts: NOW, value: null },
        'points[0].value: must be a finite number, got null',
      ],
      [
        'with an infinite value',
        { series: 's', ts: NOW, value: Infinity },
        'points[0].value: must be a finite number, got Infinity',
      ],
      [
        'with a boolean ts',
        { series: 's', ts: true, value: 1 },
        'points[0].ts: must be epoch milliseconds or an RFC 3339 timestamp with a zone, got true',
      ],
      [
        'with labels that are not an object',
        { series: 's', ts: NOW, value: 1, labels: ['a'] },
        'points[0].labels: must be an object whose values are strings, got an array',
      ],
      [
        'with a label value that is not a string',
        { series: 's', ts: NOW, value: 1, labels: { code: 200 } },
        'points[0].labels.code: value must be a string, got 200',
      ],
      [
        'with a misspelt field, before the missing one',
        { series: 's', ts: NOW, valeu: 1 },
        'points[0].valeu: unknown field (a point has series, ts, value and labels)',
      ],
      [
        'with an unknown field',
        { series: 's', ts: NOW, value: 1, unit: 'ms' },
        'points[0].unit: unknown field (a point has series, ts, value and labels)',
      ],
      [
        'with a control character in series',
        { series: 'a\u0000b', ts: NOW, value: 1 },
        'points[0].series: contains a control character (U+0000)',
      ],
      [
        'with a reserved label name',
        { series: 's', ts: NOW, value: 1, labels: { __name__: 'x' } },
        'points[0].labels.__name__: name is reserved: names starting with "__" are for internal use',
      ],
      [
        'with a label name that needs quoting in the path',
        { series: 's', ts: NOW, value: 1, labels: { 'a\nb': 'x' } },
        'points[0].labels["a\\nb"]: name contains a control character (U+000A)',
      ],
      [
        'with an RFC 3339 ts without a zone',
        { series: 's', ts: '2024-05-01T12:00:00', value: 1 },
        'points[0].ts: must be epoch milliseconds or an RFC 3339 timestamp with a zone, like "2024-05-01T12:00:00Z", got "2024-05-01T12:00:00"',
      ],
      [
        'with an impossible date',
        { series: 's', ts: '2024-02-30T12:00:00Z', value: 1 },
        'points[0].ts: must be epoch milliseconds or an RFC 3339 timestamp with a zone, like "2024-05-01T12:00:00Z", got "2024-02-30T12:00:00Z"',
      ],
      [
        'from before the window',
        { series: 's', ts: '2024-04-01T00:00:00Z', value: 1 },
        'points[0].ts: 2024-04-01T00:00:00.000Z is too far in the past (accepted: 7d before now to 10m after)',
      ],
    ])('%s', (_, point, error) => {
      expect(rejectionOf(point)).toBe(error);
    });

    it('with a label named __proto__, which a plain copy would lose', () => {
      const body = '{"points":[{"series":"s","ts":1714564800000,"value":1,"labels":{"__proto__":"x"}}]}';
      expect(decoder.decode(body, NOW).rejected).toEqual([
        {
          index: 0,
          error:
            'points[0].labels.__proto__: name is reserved: names starting with "__" are for internal use',
        },
      ]);
    });

    it('with a value that overflows a double', () => {
      const body = `{"points":[{"series":"s","ts":${NOW},"value":1e400}]}`;
      expect(decoder.decode(body, NOW).rejected[0].error).toBe(
        'points[0].value: must be a finite number, got Infinity',
      );
    });

    it.each([
      ['seconds', (NOW - 5000) / 1000],
      ['microseconds', NOW * 1000],
      ['nanoseconds', NOW * 1e6],
    ])('with a ts in epoch %s, saying so', (unit, ts) => {
      expect(rejectionOf({ series: 's', ts, value: 1 })).toMatch(
        new RegExp(
          `^points\\[0\\]\\.ts: .* is too far in the (past|future) \\(.*\\); it looks like epoch ${unit}, but ts takes milliseconds$`,
        ),
      );
    });
  });

  describe('refuses the whole request', () => {
    it.each([
      [
        'text that is not JSON',
        '{"points": [',
        IngestExceptionCode.MALFORMED_BODY,
        /^body: not valid JSON \(/,
      ],
      [
        'bytes that are not UTF-8',
        Buffer.from([0x7b, 0xff, 0x7d]),
        IngestExceptionCode.MALFORMED_BODY,
        /^body: not valid UTF-8$/,
      ],
      [
        'an array',
        [],
        IngestExceptionCode.MALFORMED_BODY,
        /^body: must be a JSON object \{"points": \[\.\.\.\]\}, got an array$/,
      ],
      ['null', null, IngestExceptionCode.MALFORMED_BODY, /^body: must be a JSON object .*, got null$/],
      ['an object without points', {}, IngestExceptionCode.MALFORMED_BODY, /^points: required$/],
      [
        'points that are not an array',
        { points: { a: 1 } },
        IngestExceptionCode.MALFORMED_BODY,
        /^points: must be an array, got an object$/,
      ],
      [
        'an unknown top-level field',
        { points: [], tenant: 'x' },
        IngestExceptionCode.MALFORMED_BODY,
        /^tenant: unknown field \(the body has only "points"\)$/,
      ],
      [
        'an unknown top-level field with a strange name',
        { points: [], 'a\nb': 1 },
        IngestExceptionCode.MALFORMED_BODY,
        /^\["a\\nb"\]: unknown field/,
      ],
    ])('for %s', (_, body, code, message) => {
      const error = requestError(body);
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
    });

    it('with more points than the limit, as too large', () => {
      const small = new JsonPointsDecoder({ limits: ingestLimits({ maxPointsPerRequest: 2 }) });
      const point = { series: 's', ts: NOW, value: 1 };
      expect(small.decode({ points: [point, point] }, NOW).points).toHaveLength(2);
      const error = requestError({ points: [point, point, point] }, small);
      expect(error.code).toBe(IngestExceptionCode.TOO_LARGE);
      expect(error.message).toBe('points: 3 points, more than the limit of 2 per request');
    });

    it('with a body over the byte limit, as too large', () => {
      const small = new JsonPointsDecoder({ limits: ingestLimits({ maxBodyBytes: 10 }) });
      const error = requestError(Buffer.from('{"points":[]}'), small);
      expect(error.code).toBe(IngestExceptionCode.TOO_LARGE);
      expect(error.message).toBe('body: more than the limit of 10 bytes');
    });
  });

  it('uses the prometheus charset when asked to', () => {
    const strict = new JsonPointsDecoder({ charset: 'prometheus' });
    expect(
      strict.decode({ points: [{ series: 'cpu.load', ts: NOW, value: 1 }] }, NOW).rejected[0].error,
    ).toMatch(/^points\[0\]\.series: must match/);
  });

  describe('properties', () => {
    const validPoint = fc.record(
      {
        series: fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/[\p{Cc}]/u.test(s)),
        ts: fc.oneof(
          fc.integer({ min: NOW - 7 * 86_400_000, max: NOW + 600_000 }),
          fc.integer({ min: NOW - 7 * 86_400_000, max: NOW + 600_000 }).map((t) => new Date(t).toISOString()),
        ),
        value: fc.double({ noNaN: true, noDefaultInfinity: true }),
        labels: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), fc.string({ maxLength: 10 }), {
          maxKeys: 5,
        }),
      },
      { requiredKeys: ['series', 'ts', 'value'] },
    );

    it('never throws on a list of anything, and answers every point either way', () => {
      fc.assert(
        fc.property(fc.array(fc.oneof(fc.anything(), validPoint), { maxLength: 30 }), (points) => {
          const result = decoder.decode({ points }, NOW);
          expect(result.points.length + result.rejected.length).toBe(points.length);
          for (const { index, error } of result.rejected)
            expect(error.startsWith(`points[${index}]`)).toBe(true);
        }),
      );
    });

    it('accepts every valid point, whatever its finite value', () => {
      fc.assert(
        fc.property(fc.array(validPoint, { maxLength: 20 }), (points) => {
          const result = decoder.decode({ points }, NOW);
          expect(result.rejected).toEqual([]);
          expect(result.points.map((p) => p.value)).toEqual(points.map((p) => p.value));
        }),
      );
    });
  });
});

describe('JsonPointsDecoder, on series it has seen before', () => {
  it('answers a series seen before as the first time, and refuses a bad one every time', () => {
    const fresh = new JsonPointsDecoder();
    const body = {
      points: [
        { series: 'cpu', ts: NOW, value: 1, labels: { host: 'a', dc: 'x' } },
        { series: 'cpu', ts: NOW, value: 2, labels: { dc: 'x', host: 'a' } },
        { series: 'cpu', ts: NOW, value: 3, labels: { host: 'a', dc: 'x', __bad: 'y' } },
      ],
    };
    const first = fresh.decode(body, NOW);
    const second = fresh.decode(body, NOW);
    expect(second).toEqual(first);
    expect(first.points.map((p) => p.series)).toEqual(['cpu{dc="x",host="a"}', 'cpu{dc="x",host="a"}']);
    expect(first.rejected).toEqual([
      { index: 2, error: expect.stringMatching(/^points\[2\]\.labels\.__bad: /) },
    ]);
  });

  it('decodes any batch of points alike with a warm decoder and a new one', () => {
    const point = fc.record(
      {
        series: fc.constantFrom('cpu', 'mem', '', 'a\u0000b', 'x'.repeat(300)),
        ts: fc.oneof(fc.integer({ min: NOW - 1000, max: NOW }), fc.constant('2024-05-01T12:00:00Z')),
        value: fc.oneof(fc.double(), fc.constant('1')),
        labels: fc.option(
          fc.dictionary(fc.constantFrom('host', 'dc', '__x', ''), fc.constantFrom('a', 'b', '', 'c\u0007')),
          { nil: undefined },
        ),
      },
      { requiredKeys: ['series', 'ts', 'value'] },
    );
    const warm = new JsonPointsDecoder();
    fc.assert(
      fc.property(fc.array(point, { maxLength: 20 }), (points) => {
        const body = { points };
        expect(warm.decode(body, NOW)).toEqual(new JsonPointsDecoder().decode(body, NOW));
      }),
      { numRuns: 500 },
    );
  });
});
