import fc from 'fast-check';
import { type InfluxEntry, type InfluxLine, parseInfluxLines } from './influx-line.parser';

function entries(text: string): InfluxEntry[] {
  return parseInfluxLines(text).map((line) => {
    if (!line.ok) throw new Error(`line ${line.line} ${line.error.element}: ${line.error.problem}`);
    return line.entry;
  });
}

function only(text: string): InfluxEntry {
  const all = entries(text);
  expect(all).toHaveLength(1);
  return all[0];
}

function errors(text: string): string[] {
  return parseInfluxLines(text)
    .filter((line): line is Extract<InfluxLine, { ok: false }> => !line.ok)
    .map((line) => `line ${line.line} ${line.error.element}: ${line.error.problem}`);
}

describe('parseInfluxLines', () => {
  it('reads measurement, tags, fields and timestamp', () => {
    expect(only('cpu,host=a,cpu=cpu0 usage_idle=97.5,usage_user=1.25 1714564800000000000')).toEqual({
      measurement: 'cpu',
      tags: [
        ['host', 'a'],
        ['cpu', 'cpu0'],
      ],
      fields: [
        { key: 'usage_idle', type: 'float', value: 97.5 },
        { key: 'usage_user', type: 'float', value: 1.25 },
      ],
      timestamp: '1714564800000000000',
    });
  });

  it('reads a line without tags or timestamp', () => {
    expect(only('mem used=1')).toEqual({
      measurement: 'mem',
      tags: [],
      fields: [{ key: 'used', type: 'float', value: 1 }],
      timestamp: undefined,
    });
  });

  it.each([
    ['1', 1],
    ['-1.5', -1.5],
    ['1.', 1],
    ['.5', 0.5],
    ['-1.234456e+78', -1.234456e78],
    ['1E-3', 0.001],
    ['0', 0],
    ['-0', -0],
  ])('reads the float %s', (text, value) => {
    expect(only(`m f=${text}`).fields[0]).toEqual({ key: 'f', type: 'float', value });
  });

  // Beyond 2^53 the value is the nearest double.
  it.each([
    ['7i', 'integer', 7],
    ['-12485903i', 'integer', -12485903],
    ['9223372036854775807i', 'integer', Number(2n ** 63n - 1n)],
    ['-9223372036854775808i', 'integer', Number(-(2n ** 63n))],
    ['0u', 'uinteger', 0],
    ['18446744073709551615u', 'uinteger', Number(2n ** 64n - 1n)],
  ])('reads the integer %s', (text, type, value) => {
    expect(only(`m f=${text}`).fields[0]).toEqual({ key: 'f', type, value });
  });

  it.each(['t', 'T', 'true', 'True', 'TRUE', 'f', 'F', 'false', 'False', 'FALSE'])(
    'reads the boolean %s',
    (text) => {
      expect(only(`m b=${text}`).fields[0]).toEqual({
        key: 'b',
        type: 'boolean',
        value: text.startsWith('t') || text.startsWith('T'),
      });
    },
  );

  it('reads string fields with their escapes, commas, spaces and newlines', () => {
    expect(only('m s="a \\"quoted\\", b=1 \\\\ \\d\nnext line",n=2i').fields).toEqual([
      { key: 's', type: 'string', value: 'a "quoted", b=1 \\ \\d\nnext line' },
      { key: 'n', type: 'integer', value: 2 },
    ]);
  });

  it('unescapes commas and spaces in the measurement, and commas, equals signs and spaces in keys and tag values', () => {
    expect(only('my\\ meas\\,urement,tag\\ key\\,1\\==tag\\ val\\=ue\\,x field\\ key\\=1=1 5')).toEqual({
      measurement: 'my meas,urement',
      tags: [['tag key,1=', 'tag val=ue,x']],
      fields: [{ key: 'field key=1', type: 'float', value: 1 }],
      timestamp: '5',
    });
  });

  it('keeps a backslash that escapes nothing, as the reference decoder does', () => {
    expect(only('a\\b\\=c,t=x\\y f\\n=1')).toMatchObject({
      measurement: 'a\\b\\=c',
      tags: [['t', 'x\\y']],
      fields: [{ key: 'f\\n' }],
    });
    // Backslashes are not escaped themselves (Telegraf writes them as they are): the second one escapes the comma.
    expect(only('m\\\\,t=1 f=1')).toMatchObject({ measurement: 'm\\,t=1', tags: [] });
  });

  it('skips blank lines, comments and leading spaces, and counts their lines', () => {
    const parsed = parseInfluxLines('# header\n\n   \n  a f=1\r\n# a=b c=d\r\n\r\nb f=2 3\n');
    expect(parsed.map((line) => line.line)).toEqual([4, 7]);
    expect(parsed.every((line) => line.ok)).toBe(true);
  });

  it('allows several spaces between the sections and after the timestamp', () => {
    expect(only('m,t=1   f=1    12   ')).toMatchObject({ tags: [['t', '1']], timestamp: '12' });
  });

  it('reads negative timestamps', () => {
    expect(only('m f=1 -1000').timestamp).toBe('-1000');
  });

  it('numbers lines from where each entry starts, past strings that span lines', () => {
    const parsed = parseInfluxLines('a s="one\ntwo\nthree" 1\nb f=1\n\nc f=2');
    expect(parsed.map((line) => line.line)).toEqual([1, 4, 6]);
  });

  it('gives each entry its place in the text, line ending included', () => {
    const text = 'a f=1\nbad\r\nc f=2';
    expect(parseInfluxLines(text).map(({ start, end }) => text.slice(start, end))).toEqual([
      'a f=1\n',
      'bad\r\n',
      'c f=2',
    ]);
  });

  it.each([
    [',t=1 f=1', 'line 1 measurement: missing: a line starts with the measurement name'],
    ['m', 'line 1 fields: missing: a line needs at least one field after a space'],
    ['m,t=1', 'line 1 fields: missing: a line needs at least one field after a space'],
    ['m   ', 'line 1 fields: missing: a line needs at least one field after a space'],
    ['m, f=1', 'line 1 tag key: missing after ","'],
    ['m,t f=1', 'line 1 tag "t": expected "=" and a value after the key'],
    ['m,t= f=1', 'line 1 tag "t": value is empty (leave the tag out instead)'],
    ['m,t=a=b f=1', 'line 1 tag "t": unexpected "=" (a backslash escapes it)'],
    ['m f', 'line 1 field "f": expected "=" and a value after the key'],
    ['m =1', 'line 1 field key: missing before "="'],
    ['m f=', 'line 1 field "f": value is missing'],
    ['m f=1,', 'line 1 fields: missing a field after ","'],
    ['m f=abc', 'line 1 field "f": "abc" is not a number, a boolean or a double-quoted string'],
    ['m f=NaN', 'line 1 field "f": "NaN" is not a number, a boolean or a double-quoted string'],
    ['m f=yes', 'line 1 field "f": "yes" is not a number, a boolean or a double-quoted string'],
    ['m f=tru', 'line 1 field "f": "tru" is not a number, a boolean or a double-quoted string'],
    ['m f=1.2.3', 'line 1 field "f": "1.2.3" is not a number, a boolean or a double-quoted string'],
    ['m f=0x10', 'line 1 field "f": "0x10" is not a number, a boolean or a double-quoted string'],
    ['m f=1.5i', 'line 1 field "f": "1.5i" is not an integer'],
    ['m f=-1u', 'line 1 field "f": "-1u" is not an unsigned integer'],
    [
      'm f=9223372036854775808i',
      'line 1 field "f": 9223372036854775808i is outside the 64-bit integer range',
    ],
    [
      'm f=-9223372036854775809i',
      'line 1 field "f": -9223372036854775809i is outside the 64-bit integer range',
    ],
    [
      'm f=18446744073709551616u',
      'line 1 field "f": 18446744073709551616u is outside the unsigned 64-bit integer range',
    ],
    ['m f="open', 'line 1 field "f": string value has no closing double quote'],
    ['m f="a"b', 'line 1 field "f": unexpected "b" after the value'],
    ['m f=1 12a', 'line 1 timestamp: "12a" is not an integer'],
    ['m f=1 1.5', 'line 1 timestamp: "1.5" is not an integer'],
    ['m f=1 12 13', 'line 1 timestamp: unexpected "1" after the timestamp'],
    ['m\tx f=1', 'line 1 measurement: contains a control character (U+0009)'],
    ['m,t=a\u0000 f=1', 'line 1 tag "t": contains a control character (U+0000)'],
    ['m f\u007f=1', 'line 1 field key: contains a control character (U+007F)'],
    ['m\rx f=1', 'line 1 measurement: contains a control character (U+000D)'],
    ['m f=1\rx', 'line 1 field "f": contains a control character (U+000D)'],
  ])('reports %j as %s', (text, error) => {
    expect(errors(text)).toEqual([error]);
  });

  it('resumes at the next line after an error', () => {
    const parsed = parseInfluxLines('a f=1\nb f=oops,g=2\nc f=3\nd s="never closed\ne f=5');
    expect(parsed.map((line) => [line.line, line.ok])).toEqual([
      [1, true],
      [2, false],
      [3, true],
      [4, false],
    ]);
  });

  describe('properties', () => {
    /** Characters with the syntax's special ones over-represented. */
    const character = fc.oneof(
      fc.constantFrom(',', '=', ' ', '\\', '"', '#', 'n', 'é', '😀'),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
    );
    // Control characters are refused, and a trailing backslash would escape the separator after it.
    const key = fc
      .string({ unit: character, minLength: 1, maxLength: 10 })
      .filter((s) => !/[\p{Cc}]/u.test(s) && !s.endsWith('\\'));
    const name = key.filter((s) => !s.startsWith('#'));
    const fieldValue = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => ({ type: 'float' as const, value })),
      fc
        .bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
        .map((n) => ({ type: 'integer' as const, value: Number(n), text: `${n}i` })),
      fc
        .bigInt({ min: 0n, max: 2n ** 64n - 1n })
        .map((n) => ({ type: 'uinteger' as const, value: Number(n), text: `${n}u` })),
      fc.boolean().map((value) => ({ type: 'boolean' as const, value })),
      fc
        .string({
          unit: fc.oneof(character, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
          maxLength: 12,
        })
        .map((value) => ({ type: 'string' as const, value })),
    );
    const entry = fc.record({
      measurement: name,
      tags: fc.array(fc.tuple(key, key), { maxLength: 3 }),
      fields: fc.array(fc.tuple(key, fieldValue), { minLength: 1, maxLength: 3 }),
      timestamp: fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String), {
        nil: undefined,
      }),
    });

    const escape = (text: string, special: RegExp) => text.replace(special, (c) => `\\${c}`);
    type Written = typeof entry extends fc.Arbitrary<infer T> ? T : never;
    const write = (e: Written): string => {
      const tags = e.tags.map(([k, v]) => `,${escape(k, /[,= ]/g)}=${escape(v, /[,= ]/g)}`).join('');
      const fields = e.fields
        .map(([key, f]) => {
          const value =
            f.type === 'string'
              ? `"${escape(f.value, /["\\]/g)}"`
              : 'text' in f
                ? f.text
                : Object.is(f.value, -0)
                  ? '-0'
                  : String(f.value);
          return `${escape(key, /[,= ]/g)}=${value}`;
        })
        .join(',');
      return `${escape(e.measurement, /[, ]/g)}${tags} ${fields}${e.timestamp === undefined ? '' : ` ${e.timestamp}`}`;
    };

    it('reads back what a careful writer escapes, whatever the text', () => {
      fc.assert(
        fc.property(
          fc.array(entry, { minLength: 1, maxLength: 5 }),
          fc.constantFrom('\n', '\r\n'),
          (written, eol) => {
            const parsed = entries(written.map(write).join(eol));
            expect(parsed).toEqual(
              written.map((e) => ({
                measurement: e.measurement,
                tags: e.tags,
                fields: e.fields.map(([key, f]) => ({ key, type: f.type, value: f.value })),
                timestamp: e.timestamp,
              })),
            );
          },
        ),
      );
    });

    it('never throws, and numbers every entry within the text', () => {
      const noisy = fc.string({
        unit: fc.oneof(
          fc.constantFrom(',', '=', ' ', '"', '\\', '\n', '\r', '#', 'i', 'u', 't', '1', '-', '.'),
          fc.string({ unit: 'binary', maxLength: 1 }),
        ),
        maxLength: 80,
      });
      fc.assert(
        fc.property(noisy, (text) => {
          const lineCount = text.split('\n').length;
          let previous = 0;
          for (const line of parseInfluxLines(text)) {
            expect(line.line).toBeGreaterThan(previous);
            expect(line.line).toBeLessThanOrEqual(lineCount);
            previous = line.line;
          }
        }),
      );
    });
  });
});
