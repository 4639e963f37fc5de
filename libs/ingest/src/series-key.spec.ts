import fc from 'fast-check';
import { compareCodePoints, parseSeriesKey, seriesKey, sortedLabels } from './series-key';

/** Any text: whole characters, or code units including control characters and lone surrogates. */
const anyText = (maxLength = 12) =>
  fc.oneof(fc.string({ unit: 'grapheme', maxLength }), fc.string({ unit: 'binary', maxLength }));
/** Label sets as records, empty values and the key syntax's own characters included. */
const anyLabels = fc.dictionary(
  fc.oneof(fc.constantFrom('a', 'b', '"', '=', ',', '\\'), anyText()),
  fc.oneof(fc.constantFrom('', 'x', '"', '\\', '\n', '",b="y'), anyText(8)),
  { maxKeys: 6, noNullPrototype: true },
);
const anyMetric = fc.oneof(
  fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,10}$/),
  anyText(),
  fc.constantFrom('{', 'a{b="c"}'),
);

function normalised(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(sortedLabels(labels));
}

describe('seriesKey', () => {
  it.each([
    ['up', {}, 'up'],
    ['http_requests_total', { method: 'GET', code: '200' }, 'http_requests_total{code="200",method="GET"}'],
    ['ns:rate5m', { a: '' }, 'ns:rate5m'],
    ['cpu.load', {}, '{"cpu.load"}'],
    ['cpu.load', { host: 'a' }, '{"cpu.load",host="a"}'],
    ['m', { 'k8s.pod': 'x' }, 'm{"k8s.pod"="x"}'],
    ['m', { a: 'say "hi"\\n\nnext' }, 'm{a="say \\"hi\\"\\\\n\\nnext"}'],
    ['', {}, '{""}'],
    ['9lives', {}, '{"9lives"}'],
  ])('writes %j %j as %s', (metric, labels, key) => {
    expect(seriesKey(metric, labels)).toBe(key);
  });

  it('sorts labels by code point, as Prometheus sorts UTF-8 bytes', () => {
    // U+FF5E sorts before U+1F600 by code point, after it by UTF-16 code unit.
    expect(seriesKey('m', { '😀': '1', '～': '2', b: '3', B: '4' })).toBe('m{B="4",b="3","～"="2","😀"="1"}');
  });

  it('is canonical: the order labels are given in does not matter', () => {
    fc.assert(
      fc.property(anyMetric, anyLabels, fc.infiniteStream(fc.nat()), (metric, labels, seeds) => {
        const entries = Object.entries(labels);
        const shuffled = entries
          .map((entry) => ({ entry, order: seeds.next().value }))
          .sort((a, b) => a.order - b.order)
          .map(({ entry }) => entry);
        expect(seriesKey(metric, Object.fromEntries(shuffled))).toBe(seriesKey(metric, labels));
      }),
    );
  });

  it('is injective: parseSeriesKey gives back the metric and the labels, empty values dropped', () => {
    fc.assert(
      fc.property(anyMetric, anyLabels, (metric, labels) => {
        const parsed = parseSeriesKey(seriesKey(metric, labels));
        expect(parsed).toBeDefined();
        expect(parsed?.metric).toBe(metric);
        expect(parsed?.labels).toEqual(normalised(labels));
      }),
    );
  });

  it('gives different label sets different keys', () => {
    fc.assert(
      fc.property(anyMetric, anyLabels, anyMetric, anyLabels, (m1, l1, m2, l2) => {
        const same = m1 === m2 && JSON.stringify(sortedLabels(l1)) === JSON.stringify(sortedLabels(l2));
        expect(seriesKey(m1, l1) === seriesKey(m2, l2)).toBe(same);
      }),
    );
  });

  it.each([
    ['a metric that looks like a series', 'a{b="c"}', {}, 'a', { b: 'c' }],
    ['a value that looks like two labels', 'm', { a: 'x",b="y' }, 'm', { a: 'x', b: 'y' }],
    ['a name that looks like a label', 'm', { 'a="x",b': 'y' }, 'm', { a: 'x', b: 'y' }],
    ['an escaped newline against a real one', 'm', { a: '\\n' }, 'm', { a: '\n' }],
  ])('tells apart %s', (_, m1, l1, m2, l2) => {
    expect(seriesKey(m1, l1)).not.toBe(seriesKey(m2, l2));
  });

  it('keeps a label named __proto__ a label', () => {
    const labels = JSON.parse('{"__proto__": "x"}') as Record<string, string>;
    const key = seriesKey('m', labels);
    expect(key).toBe('m{__proto__="x"}');
    expect(Object.keys(parseSeriesKey(key)?.labels ?? {})).toEqual(['__proto__']);
  });
});

describe('parseSeriesKey', () => {
  it.each([
    'up',
    'up{a="1"}',
    '{"cpu.load"}',
    '{"cpu.load",a="1",b="2"}',
    'm{"a b"="x"}',
    'm{a="q\\"b\\\\s\\nn"}',
  ])('reads the canonical key %s back', (key) => {
    const parsed = parseSeriesKey(key);
    expect(parsed).toBeDefined();
    expect(seriesKey(parsed!.metric, parsed!.labels)).toBe(key);
  });

  it.each([
    ['empty text', ''],
    ['unsorted labels', 'm{b="1",a="2"}'],
    ['an empty value', 'm{a=""}'],
    ['a label given twice', 'm{a="1",a="2"}'],
    ['quotes a classic name needs none of', '{"up"}'],
    ['a quoted label name that needs none', 'm{"a"="1"}'],
    ['empty braces', 'up{}'],
    ['a missing closing brace', 'up{a="1"'],
    ['text after the braces', 'up{a="1"}x'],
    ['an unknown escape', 'm{a="\\t"}'],
    ['an unquoted value', 'm{a=1}'],
    ['a bare name outside the classic set', 'cpu.load'],
    ['a raw newline, which the key escapes', 'm{a="x\ny"}'],
  ])('refuses %s', (_, key) => {
    expect(parseSeriesKey(key)).toBeUndefined();
  });
});

describe('compareCodePoints', () => {
  it('orders strings as their code point sequences (and UTF-8 bytes) order', () => {
    const codePoints = (s: string) => Array.from(s, (c) => c.codePointAt(0)!);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        const expected = Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
        expect(Math.sign(compareCodePoints(a, b))).toBe(expected);
        const [x, y] = [codePoints(a), codePoints(b)];
        const i = x.findIndex((c, k) => c !== y[k]);
        const byCodePoints = i === -1 ? Math.sign(x.length - y.length) : Math.sign(x[i] - (y[i] ?? -1));
        expect(Math.sign(compareCodePoints(a, b))).toBe(byCodePoints);
      }),
    );
  });
});
