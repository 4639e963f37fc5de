import fc from 'fast-check';
import { parse } from 'protobufjs';
import { compressSync } from 'snappy';
import { type DecodeResult } from './decode-result';
import { InfluxLineDecoder } from './influx-line.decoder';
import { IngestException } from './ingest.exception';
import { JsonPointsDecoder } from './json-points.decoder';
import { type Point } from './point';
import { RemoteWriteDecoder } from './remote-write.decoder';
import { seriesKey } from './series-key';

/*
 * One suite run against the three formats: valid points come out as they went in, and one
 * bad point among good ones is refused alone, by its index, with its field named first,
 * while every other point is taken.
 */

const NOW = Date.UTC(2024, 4, 1, 12);
const DAY = 86_400_000;
const MINUTE = 60_000;

/** A point as a test writes it, in any format. */
interface Written {
  metric: string;
  labels: Record<string, string>;
  t: number;
  value: number;
}

/** A point as it goes on the wire: written from its fields, or as raw text (JSON and Influx) for what fields cannot say. */
type Wire = string | Written;

/** What a format does with one point: writes a request of points, and names a point's place and fields. */
interface Format {
  readonly name: string;
  decode(points: readonly Wire[]): DecodeResult;
  /** The `index` a refusal of point `i` carries. */
  index(i: number): number;
  /** How errors about point `i` start, for each field a mutation can spoil. */
  field(i: number, what: Field, label?: string): string;
  /** Characters the format cannot carry inside a name: a line break ends an Influx line. */
  readonly unwritable?: RegExp;
}

type Field = 'metric' | 'label' | 'labels' | 'ts' | 'value';

const json = new JsonPointsDecoder();
const influx = new InfluxLineDecoder();
const remoteWrite = new RemoteWriteDecoder();

const JSON_FORMAT: Format = {
  name: 'JSON',
  decode: (points) =>
    json.decode(
      `{"points":[${points
        .map((p) =>
          typeof p === 'string'
            ? p
            : JSON.stringify({ series: p.metric, labels: p.labels, ts: p.t, value: p.value }),
        )
        .join(',')}]}`,
      NOW,
    ),
  index: (i) => i,
  field: (i, what, label) =>
    ({
      metric: `points[${i}].series: `,
      label: `points[${i}].labels.${label}: `,
      labels: `points[${i}].labels`,
      ts: `points[${i}].ts: `,
      value: `points[${i}].value: `,
    })[what],
};

/** Tag values escape `,`, `=` and space; the arbitraries below write no backslash. */
const influxEscape = (text: string) => text.replace(/[,= ]/g, (c) => `\\${c}`);

/** In measurement `prometheus` a field key is the metric: one line per point, at ms precision. */
const influxLine = (p: Written, valueText = String(p.value)) =>
  `prometheus${Object.entries(p.labels)
    .map(([name, value]) => `,${influxEscape(name)}=${influxEscape(value)}`)
    .join('')} ${p.metric}=${valueText} ${p.t}`;

const INFLUX_FORMAT: Format = {
  name: 'Influx line protocol',
  unwritable: /[\n\r]/,
  decode: (points) =>
    influx.decode(points.map((p) => (typeof p === 'string' ? p : influxLine(p))).join('\n'), NOW, 'ms'),
  index: (i) => i + 1,
  field: (i, what, label) =>
    ({
      metric: `line ${i + 1} field `,
      label: `line ${i + 1} tag `,
      labels: `line ${i + 1} tag`,
      ts: `line ${i + 1} timestamp: `,
      value: `line ${i + 1} field "${label}": `,
    })[what],
};

const REMOTE_WRITE = parse(
  `
  syntax = "proto3";
  message WriteRequest { repeated TimeSeries timeseries = 1; }
  message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
  message Label { string name = 1; string value = 2; }
  message Sample { double value = 1; int64 timestamp = 2; }
  `,
  { keepCase: true },
).root.lookupType('WriteRequest');

const REMOTE_WRITE_FORMAT: Format = {
  name: 'remote_write',
  decode: (points) => {
    const timeseries = points.map((p) => {
      if (typeof p === 'string') throw new Error('remote_write has no raw text');
      const labels = Object.entries(p.labels).map(([name, value]) => ({ name, value }));
      return {
        labels: [{ name: '__name__', value: p.metric }, ...labels],
        samples: [{ value: p.value, timestamp: p.t }],
      };
    });
    const request = REMOTE_WRITE.encode(REMOTE_WRITE.fromObject({ timeseries })).finish();
    return remoteWrite.decode(compressSync(Buffer.from(request)), NOW);
  },
  index: (i) => i,
  field: (i, what, label) =>
    ({
      metric: `timeseries[${i}].labels.__name__: `,
      label: `timeseries[${i}].labels.${label}: `,
      labels: `timeseries[${i}].labels`,
      ts: `timeseries[${i}].samples[0].timestamp: `,
      value: `timeseries[${i}].samples[0].value: `,
    })[what],
};

const FORMATS = [JSON_FORMAT, INFLUX_FORMAT, REMOTE_WRITE_FORMAT];

/** Names valid in every format and charset: Prometheus' classic names, no reserved `__` prefix. */
const metric = fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/);
const labelName = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);
const labelValue = fc.string({
  unit: fc.oneof(fc.constantFrom(',', '=', ' ', '"', 'é', '😀', '{', '}'), fc.constantFrom(...'abcxyz019')),
  minLength: 1,
  maxLength: 12,
});

const goodPoint: fc.Arbitrary<Written> = fc.record({
  metric,
  labels: fc.dictionary(labelName, labelValue, { maxKeys: 4 }),
  t: fc.integer({ min: NOW - 7 * DAY, max: NOW + 10 * MINUTE }),
  // + 0 turns -0 into 0, which JSON cannot tell apart.
  value: fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => v + 0),
});

function accepted(p: Written): Point {
  const labels = Object.fromEntries(Object.entries(p.labels).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { series: seriesKey(p.metric, p.labels), metric: p.metric, labels, t: p.t, value: p.value };
}

/** C0 (NUL among them), DEL and C1: the control characters no name or label may hold. */
const control = fc
  .oneof(fc.integer({ min: 0x00, max: 0x1f }), fc.constant(0x7f), fc.integer({ min: 0x80, max: 0x9f }))
  .map((code) => String.fromCharCode(code));

/** `text` with `c` put at `at` (modulo its length). */
const insert = (text: string, c: string, at: number) => {
  const i = at % (text.length + 1);
  return text.slice(0, i) + c + text.slice(i);
};

/**
 * A way to spoil point `i` of a format: the wire form of the bad point and how its
 * error starts; undefined where the format cannot carry the mistake.
 */
type Mutation = (p: Written, format: Format, i: number) => Spoilt | undefined;

/** A spoilt point's wire form, and how its error starts (a string) or reads (a pattern). */
interface Spoilt {
  wire: Wire;
  error: string | RegExp;
}

const mutation: fc.Arbitrary<[string, Mutation]> = fc.oneof(
  fc.constantFrom<[string, Mutation]>(
    ['NaN value', (p, f, i) => nanValue(p, f, i)],
    ['infinite value', (p, f, i) => infiniteValue(p, f, i)],
    [
      'no metric name',
      (p, f, i) =>
        f === INFLUX_FORMAT ? undefined : { wire: { ...p, metric: '' }, error: f.field(i, 'metric') },
    ],
  ),
  fc
    .oneof(
      fc.integer({ min: -1e15, max: NOW - 7 * DAY - 1 }),
      fc.integer({ min: NOW + 10 * MINUTE + 1, max: 9e15 }),
    )
    .map((t): [string, Mutation] => [
      `timestamp ${t}`,
      (p, f, i) => ({ wire: { ...p, t }, error: f.field(i, 'ts') }),
    ]),
  fc.tuple(control, fc.nat()).map(([c, at]): [string, Mutation] => [
    `control character ${c.charCodeAt(0)} in the metric`,
    (p, f, i) =>
      f.unwritable?.test(c)
        ? undefined
        : {
            wire: { ...p, metric: insert(p.metric, c, at) },
            // The parser refuses C0 and DEL in a field key; C1 reaches the validator.
            error:
              f === INFLUX_FORMAT
                ? new RegExp(`^line ${i + 1} (field key|measurement and field "[^"]*"): .*control character`)
                : f.field(i, 'metric'),
          },
  ]),
  fc.tuple(control, fc.nat(), labelName).map(([c, at, name]): [string, Mutation] => [
    `control character ${c.charCodeAt(0)} in the value of label ${name}`,
    (p, f, i) =>
      f.unwritable?.test(c)
        ? undefined
        : {
            wire: { ...p, labels: { ...p.labels, [name]: insert('v', c, at) } },
            error: f.field(i, 'label', f === INFLUX_FORMAT ? `"${name}"` : name),
          },
  ]),
  fc.tuple(control, fc.nat(), labelName).map(([c, at, name]): [string, Mutation] => [
    `control character ${c.charCodeAt(0)} in the name of label ${name}`,
    (p, f, i) =>
      f.unwritable?.test(c)
        ? undefined
        : {
            wire: { ...p, labels: { ...p.labels, [insert(name, c, at)]: 'v' } },
            error: f.field(i, 'labels'),
          },
  ]),
  fc.constantFrom<[string, Mutation]>(
    [
      'an unknown field',
      (p, f, i) => jsonOnly(f, { ...jsonOf(p), valeu: 1 }, `points[${i}].valeu: unknown field`),
    ],
    [
      'a string value',
      (p, f, i) => jsonOnly(f, { ...jsonOf(p), value: String(p.value) }, f.field(i, 'value')),
    ],
    ['a numeric series', (p, f, i) => jsonOnly(f, { ...jsonOf(p), series: 7 }, f.field(i, 'metric'))],
    ['a boolean ts', (p, f, i) => jsonOnly(f, { ...jsonOf(p), ts: true }, f.field(i, 'ts'))],
    [
      'a ts that is no date',
      (p, f, i) => jsonOnly(f, { ...jsonOf(p), ts: '2024-13-01T00:00:00Z' }, f.field(i, 'ts')),
    ],
    [
      'a number as a label value',
      (p, f, i) => jsonOnly(f, { ...jsonOf(p), labels: { host: 1 } }, f.field(i, 'label', 'host')),
    ],
    ['a point that is not an object', (p, f, i) => jsonOnly(f, [p.value], `points[${i}]: must be an object`)],
  ),
);

function jsonOf(p: Written): Record<string, unknown> {
  return { series: p.metric, labels: p.labels, ts: p.t, value: p.value };
}

function jsonOnly(format: Format, raw: unknown, error: string): Spoilt | undefined {
  return format === JSON_FORMAT ? { wire: JSON.stringify(raw), error } : undefined;
}

function nanValue(p: Written, format: Format, i: number): Spoilt {
  // JSON has no NaN (a bare NaN is no JSON at all, refusing the whole body): senders write a string.
  if (format === JSON_FORMAT)
    return { wire: JSON.stringify({ ...jsonOf(p), value: 'NaN' }), error: format.field(i, 'value') };
  // Line protocol has no NaN either: the parser refuses the word, naming the field.
  if (format === INFLUX_FORMAT)
    return { wire: influxLine(p, 'NaN'), error: format.field(i, 'value', p.metric) };
  // Not Prometheus' stale marker (a NaN with other bits), which is skipped rather than refused.
  return { wire: { ...p, value: NaN }, error: format.field(i, 'value') };
}

function infiniteValue(p: Written, format: Format, i: number): Spoilt {
  // -1e999 and 1e999 are valid JSON and line protocol whose doubles are infinite.
  if (format === JSON_FORMAT) {
    const text = JSON.stringify({ ...jsonOf(p), value: 'INFINITE' }).replace('"INFINITE"', '-1e999');
    return { wire: text, error: format.field(i, 'value') };
  }
  if (format === INFLUX_FORMAT)
    return { wire: influxLine(p, '1e999'), error: format.field(i, 'value', p.metric) };
  return { wire: { ...p, value: -Infinity }, error: format.field(i, 'value') };
}

describe.each(FORMATS)('$name decoding (conformance)', (format) => {
  it('takes any valid points as they were written', () => {
    fc.assert(
      fc.property(fc.array(goodPoint, { minLength: 1, maxLength: 8 }), (points) => {
        const decoded = format.decode(points);
        expect(decoded.rejected).toEqual([]);
        expect(decoded.points).toEqual(points.map(accepted));
        expect(decoded.origins).toEqual(points.map((_, i) => format.index(i)));
      }),
      { numRuns: 100 },
    );
  });

  it('refuses exactly the one spoilt point, by its index and naming its field, and takes the others', () => {
    fc.assert(
      fc.property(
        fc.array(goodPoint, { minLength: 1, maxLength: 6 }),
        fc.nat(),
        mutation,
        (points, at, [, spoil]) => {
          const i = at % points.length;
          const bad = spoil(points[i], format, i);
          fc.pre(bad !== undefined);
          const wires: Wire[] = points.map((p, j) => (j === i ? bad!.wire : p));
          const decoded = format.decode(wires);
          expect(decoded.rejected).toEqual([{ index: format.index(i), error: expect.any(String) }]);
          const { error } = decoded.rejected[0];
          if (typeof bad!.error === 'string') expect(error.startsWith(bad!.error)).toBe(true);
          else expect(error).toMatch(bad!.error);
          expect(decoded.points).toEqual(points.filter((_, j) => j !== i).map(accepted));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('decoding anything', () => {
  it('throws nothing but an IngestException, in any format', () => {
    const body = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.json({ maxDepth: 3 }),
      fc
        .array(fc.oneof(fc.json({ maxDepth: 2 }), fc.constant('{"series":"a","ts":1,"value":1}')), {
          maxLength: 5,
        })
        .map((items) => `{"points":[${items.join(',')}]}`),
    );
    fc.assert(
      fc.property(body, fc.boolean(), (text, asBytes) => {
        const input = asBytes ? Buffer.from(text, 'utf8') : text;
        for (const decode of [
          () => json.decode(input, NOW),
          () => influx.decode(input, NOW, 'ms'),
          () => remoteWrite.decode(Buffer.from(text, 'latin1'), NOW),
        ]) {
          try {
            decode();
          } catch (error) {
            if (!(error instanceof IngestException)) throw error;
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
