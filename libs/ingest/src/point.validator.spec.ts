import fc from 'fast-check';
import { DEFAULT_INGEST_LIMITS, ingestLimits } from './ingest-limits';
import { type PointFields, PointValidator, type Validated } from './point.validator';

const NOW = Date.UTC(2024, 4, 1, 12);
const DAY = 86_400_000;
const MINUTE = 60_000;

const fields: PointFields = {
  metric: 'p.metric',
  labels: 'p.labels',
  label: (name) => `p.labels.${name}`,
  t: 'p.t',
  value: 'p.value',
};

const printable = new PointValidator();
const prometheus = new PointValidator(DEFAULT_INGEST_LIMITS, 'prometheus');

function errorOf<T>(result: Validated<T>): string | undefined {
  return result.ok ? undefined : result.error;
}

function identityError(validator: PointValidator, metric: string, labels: Record<string, string> = {}) {
  return errorOf(validator.identity(metric, Object.entries(labels), fields));
}

describe('PointValidator', () => {
  describe('a point', () => {
    it('comes out with its canonical identity, sorted labels and the millisecond floored', () => {
      const point = printable.point(
        {
          metric: 'cpu.load',
          labels: [
            ['z', '1'],
            ['a', '2'],
            ['e', ''],
          ],
          t: NOW + 0.9,
          value: -1.5,
        },
        fields,
        NOW,
      );
      expect(point).toEqual({
        ok: true,
        value: {
          series: '{"cpu.load",a="2",z="1"}',
          metric: 'cpu.load',
          labels: { a: '2', z: '1' },
          t: NOW,
          value: -1.5,
        },
      });
      expect(Object.keys(point.ok ? point.value.labels : {})).toEqual(['a', 'z']);
    });

    it('is judged on its identity first, then its timestamp, then its value', () => {
      const bad = { metric: '', labels: [], t: NaN, value: NaN };
      expect(errorOf(printable.point(bad, fields, NOW))).toMatch(/^p\.metric:/);
      expect(errorOf(printable.point({ ...bad, metric: 'm' }, fields, NOW))).toMatch(/^p\.t:/);
      expect(errorOf(printable.point({ ...bad, metric: 'm', t: NOW }, fields, NOW))).toMatch(/^p\.value:/);
    });
  });

  describe('the metric name', () => {
    it.each([
      ['', 'p.metric: must not be empty'],
      ['x'.repeat(257), 'p.metric: has 257 characters, more than the limit of 256'],
      ['cpu\nload', 'p.metric: contains a control character (U+000A)'],
      ['cpu\u0085', 'p.metric: contains a control character (U+0085)'],
      ['cpu\u007f', 'p.metric: contains a control character (U+007F)'],
      ['cpu\ud800', 'p.metric: contains an unpaired surrogate (U+D800)'],
    ])('%j is refused under both charsets', (metric, error) => {
      expect(identityError(printable, metric)).toBe(error);
      expect(identityError(prometheus, metric)).toBe(error);
    });

    it('counts characters, not UTF-16 code units', () => {
      expect(identityError(printable, '😀'.repeat(256))).toBeUndefined();
      expect(identityError(printable, '😀'.repeat(257))).toBe(
        'p.metric: has 257 characters, more than the limit of 256',
      );
    });

    it.each(['cpu.load', 'disk-io', 'api/latency ms', 'température', 'x'.repeat(256)])(
      'may be %j under the printable charset',
      (metric) => {
        expect(identityError(printable, metric)).toBeUndefined();
      },
    );

    it.each(['up', 'http_requests_total', 'ns:rate5m', '_x', ':a'])(
      'may be %j under the prometheus charset',
      (metric) => {
        expect(identityError(prometheus, metric)).toBeUndefined();
      },
    );

    it.each(['cpu.load', '9lives', 'a-b', 'é'])('may not be %j under the prometheus charset', (metric) => {
      expect(identityError(prometheus, metric)).toBe(
        `p.metric: must match [a-zA-Z_:][a-zA-Z0-9_:]* (a Prometheus metric name), got ${JSON.stringify(metric)}`,
      );
    });
  });

  describe('the labels', () => {
    it('drop empty values, as Prometheus does', () => {
      expect(
        printable.identity(
          'm',
          [
            ['a', ''],
            ['b', 'x'],
          ],
          fields,
        ),
      ).toMatchObject({
        ok: true,
        value: { series: 'm{b="x"}', labels: { b: 'x' } },
      });
    });

    it('are at most maxLabels, counted without the empty ones', () => {
      const labels = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`l${i}`, 'v']));
      expect(identityError(printable, 'm', { ...labels(30), empty: '' })).toBeUndefined();
      expect(identityError(printable, 'm', labels(31))).toBe(
        'p.labels: 31 labels, more than the limit of 30',
      );
    });

    it('may not name a label twice', () => {
      expect(
        errorOf(
          printable.identity(
            'm',
            [
              ['a', '1'],
              ['b', '2'],
              ['a', '3'],
            ],
            fields,
          ),
        ),
      ).toBe('p.labels.a: label given more than once');
    });

    it.each([
      ['', 'v', 'p.labels.: name must not be empty'],
      [
        'n'.repeat(129),
        'v',
        `p.labels.${'n'.repeat(129)}: name has 129 characters, more than the limit of 128`,
      ],
      ['__name__', 'v', 'p.labels.__name__: name is reserved: names starting with "__" are for internal use'],
      ['a\tb', 'v', 'p.labels.a\tb: name contains a control character (U+0009)'],
      ['a', 'v'.repeat(1025), 'p.labels.a: value has 1025 characters, more than the limit of 1024'],
      ['a', 'line\nbreak', 'p.labels.a: value contains a control character (U+000A)'],
      ['a', '\udc00', 'p.labels.a: value contains an unpaired surrogate (U+DC00)'],
    ])('refuse name %j with value %j under both charsets', (name, value, error) => {
      expect(identityError(printable, 'm', { [name]: value })).toBe(error);
      expect(identityError(prometheus, 'm', { [name]: value })).toBe(error);
    });

    it('may hold any other text in values, under both charsets', () => {
      const value = 'GET /api/v1?q="x" → 200 😀';
      expect(identityError(printable, 'm', { a: value })).toBeUndefined();
      expect(identityError(prometheus, 'm', { a: value })).toBeUndefined();
    });

    it('have Prometheus label names under the prometheus charset', () => {
      expect(identityError(printable, 'm', { 'k8s.pod': 'x', '0': 'y' })).toBeUndefined();
      expect(identityError(prometheus, 'm', { 'k8s.pod': 'x' })).toBe(
        'p.labels.k8s.pod: name must match [a-zA-Z_][a-zA-Z0-9_]* (a Prometheus label name), got "k8s.pod"',
      );
      expect(identityError(prometheus, 'm', { ':a': 'x' })).toMatch(/^p\.labels\.:a: name must match/);
    });

    it('make a series key of at most maxSeriesKeyLength characters', () => {
      const tight = new PointValidator(ingestLimits({ maxSeriesKeyLength: 14 }));
      expect(identityError(tight, 'm', { a: '1234567' })).toBeUndefined(); // m{a="1234567"}
      expect(identityError(tight, 'm', { a: '12345678' })).toBe(
        'p.labels: the series key has 15 characters, more than the limit of 14',
      );
      expect(identityError(tight, 'm'.repeat(15))).toBe(
        'p.metric: the series key has 15 characters, more than the limit of 14',
      );
    });
  });

  describe('the timestamp', () => {
    it('is floored to the millisecond', () => {
      expect(printable.timestamp(NOW - 0.5, 'p.t', NOW)).toEqual({ ok: true, value: NOW - 1 });
    });

    it('may be anywhere from 7 days before now to 10 minutes after, bounds included', () => {
      expect(printable.timestamp(NOW - 7 * DAY, 'p.t', NOW)).toEqual({ ok: true, value: NOW - 7 * DAY });
      expect(printable.timestamp(NOW + 10 * MINUTE, 'p.t', NOW)).toEqual({
        ok: true,
        value: NOW + 10 * MINUTE,
      });
    });

    it('says which side of the window it missed, and what the window is', () => {
      expect(errorOf(printable.timestamp(NOW - 7 * DAY - 1, 'p.t', NOW))).toBe(
        'p.t: 2024-04-24T11:59:59.999Z is too far in the past (accepted: 7d before now to 10m after)',
      );
      expect(errorOf(printable.timestamp(NOW + 10 * MINUTE + 1, 'p.t', NOW))).toBe(
        'p.t: 2024-05-01T12:10:00.001Z is too far in the future (accepted: 7d before now to 10m after)',
      );
    });

    it('follows the configured window', () => {
      const limits = ingestLimits({ maxPastMs: DAY + 90 * MINUTE, maxFutureMs: 0 });
      const validator = new PointValidator(limits);
      expect(errorOf(validator.timestamp(NOW + 1, 'p.t', NOW))).toMatch(
        /\(accepted: 1d1h30m before now to 0s after\)$/,
      );
    });

    it.each([NaN, Infinity, -Infinity])('may not be %s', (t) => {
      expect(errorOf(printable.timestamp(t, 'p.t', NOW))).toBe(
        `p.t: must be a finite number of epoch milliseconds, got ${t}`,
      );
    });

    it('is shown as a number when no date can hold it', () => {
      expect(errorOf(printable.timestamp(1e300, 'p.t', NOW))).toMatch(
        /^p\.t: 1e\+300 ms since the epoch is too far/,
      );
    });
  });

  describe('the value', () => {
    it.each([NaN, Infinity, -Infinity])('may not be %s', (value) => {
      expect(errorOf(printable.value(value, 'p.value'))).toBe(
        `p.value: must be a finite number, got ${value}`,
      );
    });

    it.each([0, -0, 1.5, -1e308, Number.MAX_VALUE, Number.MIN_VALUE])('may be %s', (value) => {
      expect(printable.value(value, 'p.value')).toEqual({ ok: true, value });
    });
  });

  describe('properties', () => {
    const anyText = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 300 }));
    const anyCandidate = fc.record({
      metric: anyText,
      labels: fc.array(fc.tuple(anyText, anyText), { maxLength: 40 }),
      t: fc.oneof(fc.double(), fc.integer({ min: NOW - 8 * DAY, max: NOW + DAY })),
      value: fc.double(),
    });

    it('never throws, and answers every candidate either way', () => {
      fc.assert(
        fc.property(
          fc.array(anyCandidate, { maxLength: 20 }),
          fc.constantFrom(printable, prometheus),
          (batch, v) => {
            const answers = batch.map((candidate) => v.point(candidate, fields, NOW));
            const accepted = answers.filter((a) => a.ok).length;
            const rejected = answers.filter(
              (a) => !a.ok && /^p\.(metric|labels|t|value)/.test(a.error),
            ).length;
            expect(accepted + rejected).toBe(batch.length);
          },
        ),
      );
    });

    it('accepts any finite value at any instant in the window', () => {
      fc.assert(
        fc.property(
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.integer({ min: NOW - 7 * DAY, max: NOW + 10 * MINUTE }),
          (value, t) => {
            expect(
              prometheus.point({ metric: 'up', labels: [['job', 'x']], t, value }, fields, NOW),
            ).toMatchObject({
              ok: true,
              value: { t, value },
            });
          },
        ),
      );
    });

    it('accepts no timestamp outside the window', () => {
      const outside = fc.oneof(
        fc.double({ max: NOW - 7 * DAY - 1, noNaN: true }),
        fc.double({ min: NOW + 10 * MINUTE + 1, noNaN: true }),
      );
      fc.assert(
        fc.property(outside, (t) => {
          expect(printable.timestamp(t, 'p.t', NOW).ok).toBe(false);
        }),
      );
    });
  });
});
