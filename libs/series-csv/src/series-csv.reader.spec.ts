import fc from 'fast-check';
import { SeriesCsvError, SeriesCsvErrorCode } from './series-csv.error';
import { MAX_ROW_BYTES, type SeriesBatch, SeriesCsvReader } from './series-csv.reader';

interface Row {
  t: number;
  value: number;
  line: number;
  text: string;
}

const HEADER = 'timestamp,value\n';
const utf8 = new TextDecoder();

/** Every row the reader yields for `input` pushed in `chunks`, copied out of the reused batches. */
async function read(input: string | Buffer, cuts: number[] = []): Promise<Row[]> {
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input);
  const reader = new SeriesCsvReader('data.csv');
  const rows: Row[] = [];
  const collect = (batch: SeriesBatch): void => {
    for (let i = 0; i < batch.length; i++) {
      rows.push({
        t: batch.times[i],
        value: batch.values[i],
        line: batch.lines[i],
        text: utf8.decode(batch.source.subarray(batch.starts[i], batch.ends[i])),
      });
    }
  };
  let from = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    collect(await reader.push(bytes.subarray(from, cut)));
    from = cut;
  }
  collect(await reader.push(bytes.subarray(from)));
  collect(await reader.end());
  return rows;
}

async function readError(input: string | Buffer): Promise<SeriesCsvError> {
  try {
    await read(input);
  } catch (error) {
    if (error instanceof SeriesCsvError) return error;
    throw error;
  }
  throw new Error('expected the input to be refused');
}

describe('SeriesCsvReader', () => {
  it("reads NAB's format, keeping each row's text and line", async () => {
    const rows = await read(HEADER + '2014-07-01 00:00:00,10.5\n2014-07-01 00:05:00,-3\n');
    expect(rows).toEqual([
      { t: Date.UTC(2014, 6, 1), value: 10.5, line: 2, text: '2014-07-01 00:00:00,10.5' },
      { t: Date.UTC(2014, 6, 1, 0, 5), value: -3, line: 3, text: '2014-07-01 00:05:00,-3' },
    ]);
  });

  it('keeps irregular, repeated and earlier timestamps, in file order', async () => {
    const rows = await read(
      HEADER +
        '2014-07-01T00:10:00Z,1\n' +
        '2014-07-01T00:10:00Z,2\n' +
        '2014-07-01T00:00:00Z,3\n' +
        '2014-07-01T07:13:02.250+02:00,4\n' +
        '1404172800,5\n' +
        '1404172800000,6\n',
    );
    expect(rows.map((r) => r.value)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rows.map((r) => r.t - Date.UTC(2014, 6, 1))).toEqual([600_000, 600_000, 0, 18_782_250, 0, 0]);
  });

  it('reads quoted fields, CRLF line breaks, a byte order mark and no final line break', async () => {
    const rows = await read(
      '\ufeff"timestamp","value"\r\n"2014-07-01 00:00:00","1.5"\r\n2014-07-01 00:05:00,2',
    );
    expect(rows).toEqual([
      { t: Date.UTC(2014, 6, 1), value: 1.5, line: 2, text: '"2014-07-01 00:00:00","1.5"' },
      { t: Date.UTC(2014, 6, 1, 0, 5), value: 2, line: 3, text: '2014-07-01 00:05:00,2' },
    ]);
  });

  it('skips blank lines but counts them, and line breaks inside quotes', async () => {
    const rows = await read(HEADER + '\n2014-07-01,1\r\n\r\n2014-07-02,"\n2"\n\n2014-07-03,3\n\n');
    expect(rows.map((r) => [r.line, r.value])).toEqual([
      [3, 1],
      [5, 2],
      [8, 3],
    ]);
  });

  it('passes Infinity on: refusing non-finite values is the detectors’ gate, not the reader’s', async () => {
    expect((await read(HEADER + '2014-07-01,Infinity\n2014-07-02,-1e999\n')).map((r) => r.value)).toEqual([
      Infinity,
      -Infinity,
    ]);
  });

  it('reads lines ending in LF and in CRLF in one file', async () => {
    const rows = await read('timestamp,value\r\n2014-07-01,1\n"2014-07-02","2"\r\n2014-07-03,3\n');
    expect(rows.map((r) => [r.line, r.text])).toEqual([
      [2, '2014-07-01,1'],
      [3, '"2014-07-02","2"'],
      [4, '2014-07-03,3'],
    ]);
  });

  it('leaves a line break cut short at the end of the input out of the row', async () => {
    expect((await read(HEADER + '2014-07-01,2\r')).map((r) => r.text)).toEqual(['2014-07-01,2']);
    expect((await read(HEADER + '2014-07-01,"2"\r')).map((r) => r.text)).toEqual(['2014-07-01,"2"']);
  });

  it('skips any number of blank lines, which are no long row', async () => {
    const blank = '\r\n'.repeat(MAX_ROW_BYTES);
    const rows = await read(HEADER + blank + '2014-07-01,1\n' + blank, [HEADER.length + 1000]);
    expect(rows.map((r) => [r.line, r.value])).toEqual([[2 + MAX_ROW_BYTES, 1]]);
  });

  it('reads a header-only file as no rows', async () => {
    expect(await read('timestamp,value')).toEqual([]);
  });

  it('reads the same rows however the input is cut into chunks', async () => {
    await fc.assert(
      fc.asyncProperty(seriesFile, fc.array(fc.nat(), { maxLength: 12 }), async (file, rawCuts) => {
        const bytes = Buffer.from(file.text);
        const cuts = rawCuts.map((c) => c % (bytes.length + 1));
        expect(await read(bytes, cuts)).toEqual(file.rows);
      }),
    );
  });

  it('reads every byte one push at a time', async () => {
    const text =
      '\ufeff' + HEADER + '"2014-07-01 00:00:00","1"\r\n2014-07-01 00:05:00,2\r\n\r\n2014-07-01,"3"';
    const bytes = Buffer.from(text);
    expect(await read(bytes, Array.from(bytes.keys()))).toEqual(await read(bytes));
  });

  describe('values', () => {
    /** What the reader makes of `text` as a row's value: the number, or the code it refuses it with. */
    async function readValue(text: string): Promise<number | SeriesCsvErrorCode> {
      // Quoted, so that any text is one field.
      const input = `${HEADER}2014-07-01,"${text.replaceAll('"', '""')}"\n`;
      try {
        return (await read(input))[0].value;
      } catch (error) {
        if (error instanceof SeriesCsvError) return error.code;
        throw error;
      }
    }

    /** Decimals as metrics write them, with up to 18 digits either side of the point. */
    const plainDecimal = fc
      .tuple(
        fc.constantFrom('', '-', '+'),
        fc.stringMatching(/^[0-9]{1,18}$/),
        fc.option(fc.stringMatching(/^[0-9]{1,18}$/), { nil: undefined }),
      )
      .map(([sign, integer, fraction]) => `${sign}${integer}${fraction === undefined ? '' : `.${fraction}`}`);

    it.each([
      '0',
      '-0',
      '+7',
      '12.5',
      '-0.001',
      '3.14159265358979',
      '0.1',
      '123456789012345',
      '1e3',
      '-2.5E-7',
      ' 4 ',
      '.5',
      '5.',
      '0x1f',
      'Infinity',
      '-Infinity',
      '1e999',
    ])('reads %j exactly as Number() does', async (text) => {
      expect(await readValue(text)).toBe(Number(text));
    });

    it.each([
      ['', SeriesCsvErrorCode.EMPTY_FIELD],
      [' \t ', SeriesCsvErrorCode.EMPTY_FIELD],
      ['+', SeriesCsvErrorCode.BAD_VALUE],
      ['-', SeriesCsvErrorCode.BAD_VALUE],
      ['.', SeriesCsvErrorCode.BAD_VALUE],
      ['abc', SeriesCsvErrorCode.BAD_VALUE],
      ['1.2.3', SeriesCsvErrorCode.BAD_VALUE],
      ['--1', SeriesCsvErrorCode.BAD_VALUE],
      ['NaN', SeriesCsvErrorCode.BAD_VALUE],
      ['1,5', SeriesCsvErrorCode.BAD_VALUE],
      // Number() skips Unicode blanks too, but a value is ASCII.
      ['\u00a04', SeriesCsvErrorCode.BAD_VALUE],
      ['4\u2028', SeriesCsvErrorCode.BAD_VALUE],
      ['\u00a0', SeriesCsvErrorCode.BAD_VALUE],
    ])('refuses %j', async (text, code) => {
      expect(await readValue(text)).toBe(code);
    });

    it('reads any plain decimal exactly as Number() does', async () => {
      await fc.assert(
        fc.asyncProperty(plainDecimal, async (text) => {
          expect(await readValue(text)).toBe(Number(text));
        }),
      );
    });

    it('reads any double printed by JavaScript back to itself', async () => {
      const printable = fc.double({ noNaN: true }).filter((value) => !Object.is(value, -0)); // String(-0) is '0'
      await fc.assert(
        fc.asyncProperty(printable, async (value) => {
          expect(await readValue(String(value))).toBe(value);
        }),
      );
    });

    it('agrees with Number() on any ASCII text, refusing blanks and what is not a number', async () => {
      await fc.assert(
        fc.asyncProperty(fc.string({ unit: 'binary-ascii', maxLength: 24 }), async (text) => {
          const expected =
            text.trim() === ''
              ? SeriesCsvErrorCode.EMPTY_FIELD
              : Number.isNaN(Number(text))
                ? SeriesCsvErrorCode.BAD_VALUE
                : Number(text);
          expect(await readValue(text)).toBe(expected);
        }),
      );
    });
  });

  describe('refuses', () => {
    it.each([
      [
        'an empty input',
        '',
        SeriesCsvErrorCode.MISSING_HEADER,
        1,
        undefined,
        'data.csv:1: the input is empty',
      ],
      [
        'a file without its header',
        '2014-07-01 00:00:00,1\n',
        SeriesCsvErrorCode.MISSING_HEADER,
        1,
        undefined,
        'data.csv:1: the header "timestamp,value" is missing: the first line is a row, "2014-07-01 00:00:00,1"',
      ],
      [
        'another header',
        'time,value\n',
        SeriesCsvErrorCode.BAD_HEADER,
        1,
        undefined,
        'data.csv:1: the header must be "timestamp,value", found "time,value"',
      ],
      [
        'a header with a third column',
        'timestamp,value,label\n',
        SeriesCsvErrorCode.BAD_HEADER,
        1,
        undefined,
        'found',
      ],
      [
        'a row without its value',
        HEADER + '2014-07-01,1\n2014-07-02\n',
        SeriesCsvErrorCode.FIELD_COUNT,
        3,
        'value',
        'data.csv:3: value is missing: the row has one field',
      ],
      [
        'a row with three fields',
        HEADER + '2014-07-01,1,2\n',
        SeriesCsvErrorCode.FIELD_COUNT,
        2,
        undefined,
        'data.csv:2: expected 2 fields (timestamp,value), found 3',
      ],
      [
        'a trailing comma',
        HEADER + '2014-07-01,1,\n',
        SeriesCsvErrorCode.FIELD_COUNT,
        2,
        undefined,
        'found 3',
      ],
      [
        'an empty timestamp',
        HEADER + ',1\n',
        SeriesCsvErrorCode.EMPTY_FIELD,
        2,
        'timestamp',
        'data.csv:2: timestamp is empty',
      ],
      [
        'an empty value',
        HEADER + '2014-07-01,\n',
        SeriesCsvErrorCode.EMPTY_FIELD,
        2,
        'value',
        'data.csv:2: value is empty',
      ],
      [
        'a blank value',
        HEADER + '2014-07-01,  \n',
        SeriesCsvErrorCode.EMPTY_FIELD,
        2,
        'value',
        'value is empty',
      ],
      [
        'an empty quoted value',
        HEADER + '2014-07-01,""\n',
        SeriesCsvErrorCode.EMPTY_FIELD,
        2,
        'value',
        'value is empty',
      ],
      [
        'a value that is not a number',
        HEADER + '2014-07-01,1\n2014-07-01,12abc\n',
        SeriesCsvErrorCode.BAD_VALUE,
        3,
        'value',
        'data.csv:3: value "12abc" is not a number',
      ],
      [
        'NaN',
        HEADER + '2014-07-01,NaN\n',
        SeriesCsvErrorCode.BAD_VALUE,
        2,
        'value',
        'value "NaN" is not a number',
      ],
      [
        'an escaped quote in a value',
        HEADER + '2014-07-01,"1""5"\n',
        SeriesCsvErrorCode.BAD_VALUE,
        2,
        'value',
        'value "1\\"\\"5"',
      ],
      [
        'an impossible date',
        HEADER + '2015-02-29 00:00:00,1\n',
        SeriesCsvErrorCode.BAD_TIMESTAMP,
        2,
        'timestamp',
        'data.csv:2: timestamp "2015-02-29 00:00:00" is not in a known format: YYYY-MM-DD',
      ],
      [
        'a word for a timestamp',
        HEADER + 'yesterday,1\n',
        SeriesCsvErrorCode.BAD_TIMESTAMP,
        2,
        'timestamp',
        '"yesterday"',
      ],
      [
        'a quoted timestamp that is not one',
        HEADER + '"2014-07-01 ""noon""",1\n',
        SeriesCsvErrorCode.BAD_TIMESTAMP,
        2,
        'timestamp',
        'noon',
      ],
      [
        'text after a closing quote',
        HEADER + '"2014-07-01"x,1\n',
        SeriesCsvErrorCode.BAD_QUOTING,
        2,
        'timestamp',
        'data.csv:2: a closing quote must be followed by a comma or a line break',
      ],
      [
        'a quote left open',
        HEADER + '2014-07-01,1\n2014-07-02,"2\n',
        SeriesCsvErrorCode.BAD_QUOTING,
        3,
        'value',
        'never closed',
      ],
      [
        'a quote inside an unquoted field',
        HEADER + '2014-07-01,1\n\n2014-07-02,2"5"\n',
        SeriesCsvErrorCode.BAD_QUOTING,
        4,
        'value',
        'data.csv:4: a quote inside an unquoted field',
      ],
      [
        'a UTF-16 file',
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(HEADER + '2014-07-01,1\n', 'utf16le')]),
        SeriesCsvErrorCode.BAD_HEADER,
        1,
        undefined,
        'data.csv:1: the input is UTF-16',
      ],
    ])('%s', async (_name, input, code, line, field, message) => {
      const error = await readError(input);
      expect(error).toMatchObject({ code, source: 'data.csv', line, field });
      expect(error.message).toContain(message);
    });

    it('counts lines across blank lines and quoted line breaks', async () => {
      expect((await readError(HEADER + '\n2014-07-01,"\n1"\n\n2014-07-02,x\n')).line).toBe(6);
    });

    it.each([
      ['a row that never ends', '1'.repeat(MAX_ROW_BYTES + 1)],
      ['a quote never closed', '"' + '2014-07-01\n'.repeat(MAX_ROW_BYTES / 8)],
      ['a row of empty fields', ','.repeat(MAX_ROW_BYTES + 1)],
    ])('%s, before buffering it whole', async (_name, text) => {
      const reader = new SeriesCsvReader('data.csv');
      await reader.push(Buffer.from(HEADER + '2014-07-01,1\n\n'));
      await expect(reader.push(Buffer.from(text))).rejects.toThrow(
        expect.objectContaining({ code: SeriesCsvErrorCode.ROW_TOO_LONG, line: 4 }),
      );
    });
  });
});

/**
 * A generated series file and the rows it must read as: every timestamp format,
 * values as JavaScript prints them, random quoting, CRLF or LF, a byte order mark or
 * not, blank lines, and a final line break or not.
 */
const seriesFile = fc
  .record({
    rows: fc.array(
      fc.record({
        ms: fc.integer({ min: 1e11, max: 4e12 }),
        format: fc.constantFrom('nab', 'rfc3339', 'offset', 'epoch-ms', 'epoch-s'),
        value: fc.double({ noNaN: true, noDefaultInfinity: true }),
        quoteTimestamp: fc.boolean(),
        quoteValue: fc.boolean(),
        blankLinesBefore: fc.integer({ min: 0, max: 2 }),
      }),
      { maxLength: 30 },
    ),
    crlf: fc.boolean(),
    bom: fc.boolean(),
    finalBreak: fc.boolean(),
  })
  .map(({ rows, crlf, bom, finalBreak }) => {
    const br = crlf ? '\r\n' : '\n';
    const lines = ['timestamp,value'];
    const expected: Row[] = [];
    for (const row of rows) {
      const [timestamp, t] = printTimestamp(row.ms, row.format);
      for (let k = 0; k < row.blankLinesBefore; k++) lines.push('');
      const text = `${quoted(timestamp, row.quoteTimestamp)},${quoted(String(row.value), row.quoteValue)}`;
      lines.push(text);
      expected.push({ t, value: row.value === 0 ? 0 : row.value, line: lines.length, text });
    }
    return { text: (bom ? '\ufeff' : '') + lines.join(br) + (finalBreak ? br : ''), rows: expected };
  });

function printTimestamp(ms: number, format: string): [string, number] {
  const iso = new Date(ms).toISOString();
  const seconds = Math.floor(ms / 1000) * 1000;
  switch (format) {
    case 'nab':
      return [iso.slice(0, 19).replace('T', ' '), seconds];
    case 'rfc3339':
      return [iso, ms];
    case 'offset':
      return [new Date(ms + 5.5 * 3_600_000).toISOString().slice(0, 23) + '+05:30', ms];
    case 'epoch-ms':
      return [String(ms), ms];
    default:
      return [String(seconds / 1000), seconds];
  }
}

function quoted(text: string, quote: boolean): string {
  return quote ? `"${text}"` : text;
}
