import { finished } from 'node:stream/promises';
import { CsvError, parse, type Parser } from 'csv-parse';
import { SeriesCsvError, SeriesCsvErrorCode, type SeriesCsvField } from './series-csv.error';
import { parseTimestamp, TIMESTAMP_FORMATS } from './timestamp';

/** The first line of every series CSV (NAB's format). */
export const SERIES_CSV_HEADER = 'timestamp,value';

/**
 * A row still unfinished after this many bytes is refused: a series row is a few dozen
 * bytes, and without a cap a file with no line breaks (or an unclosed quote) would be
 * buffered whole.
 */
export const MAX_ROW_BYTES = 65_536;

/**
 * The rows read from one chunk, in file order, as parallel arrays: entries
 * `0..length-1` are valid (the arrays may be longer), and only until the reader's
 * next call, which reuses them.
 */
export interface SeriesBatch {
  readonly length: number;
  /** Epoch milliseconds, as `parseTimestamp` reads the timestamp field. */
  readonly times: Float64Array;
  readonly values: Float64Array;
  /** 1-based line on which each row starts, for messages about it. */
  readonly lines: Float64Array;
  /**
   * The bytes the rows were read from: row `i` is `source[starts[i]..ends[i])`, exactly
   * as in the input (quotes included), without its line break. Lets a writer copy the
   * timestamp and value text through instead of printing them again.
   */
  readonly source: Uint8Array;
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
}

const LF = 0x0a;
const CR = 0x0d;
const LF_BYTES = Buffer.from('\n');
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const NO_BYTES = Buffer.alloc(0);

/** ASCII blanks: what `String#trim` removes and `Number()` skips, within ASCII. */
const BLANK = /^[\t-\r ]*$/;
/**
 * `Number()` also skips Unicode blanks (U+00A0, U+FEFF, U+2028, ...). A value is read
 * as ASCII text, as timestamps are, so those make it not a number.
 */
const NOT_ASCII = /[^\0-\x7f]/;

/**
 * Reads a `timestamp,value` CSV pushed to it in chunks of any size, so a file of any
 * length streams through in constant memory.
 *
 * csv-parse reads the CSV as RFC 4180 has it: fields may be quoted (`""` is a quote
 * inside one), lines end in LF or CRLF, a UTF-8 byte order mark is skipped, and so are
 * blank lines (they hold no row). The first line must be the header `timestamp,value`.
 * Every other line is one row, kept in file order whatever its timestamp: irregular,
 * repeated or earlier timestamps are data, not errors. Anything else stops reading
 * with a `SeriesCsvError` naming the source, the line and the field.
 *
 * A value is read by `Number()`, so `1e3`, `.5`, `0x1f` and ` 4 ` are numbers and
 * `Infinity` passes on to the detectors' `assertFinitePoint` gate, but a value that is
 * empty or blanks (which `Number()` reads as 0), `NaN`, or holds a character beyond
 * ASCII is refused.
 */
export class SeriesCsvReader {
  private readonly parser: Parser;
  private readonly batch = new RowBatch();
  /** The first row refused: csv-parse reads on to the end of the chunk, this reader does not. */
  private failure: Error | undefined;
  private headerRead = false;
  /**
   * The input from offset `bufferStart` on: the chunk being read, after the bytes of
   * earlier chunks that no row has used yet. Rows are cut out of it as the parser
   * reports where each ends.
   */
  private buffer: Buffer = NO_BYTES;
  private bufferStart = 0;
  private bytesIn = 0;
  /** Offset and line where the next row (or blank line) starts. */
  private next = 0;
  private line = 1;
  /** The parser's count of blank lines skipped, as far as `next` has passed them. */
  private blankLines = 0;
  private endsInCr = false;

  /** `source` names the input in error messages: a path, or `<stdin>`. */
  constructor(readonly source: string) {
    this.parser = parse({
      bom: true,
      // Both, rather than the first one seen: a file may mix them.
      record_delimiter: ['\n', '\r\n'],
      skip_empty_lines: true,
    });
    // The parser hands out each record as it reads it, so a chunk's rows are all in
    // the batch when its write completes.
    this.parser.on('data', (fields: string[]) => this.read(fields));
    // The error is taken from the write or the end that failed; this keeps it from
    // also being thrown as an unhandled 'error' event.
    this.parser.on('error', () => undefined);
  }

  /** True once the header line has been read and accepted. */
  get hasHeader(): boolean {
    return this.headerRead;
  }

  /** Reads every row `chunk` completes; a row cut off at its end is kept for the next call. */
  async push(chunk: Buffer): Promise<SeriesBatch> {
    this.take(chunk);
    const error = await new Promise<Error | null | undefined>((written) => this.parser.write(chunk, written));
    if (this.failure) throw this.failure;
    if (error) throw this.parseError(error);
    this.passSkipped();
    if (this.bytesIn - this.next > MAX_ROW_BYTES) {
      throw this.error(
        SeriesCsvErrorCode.ROW_TOO_LONG,
        undefined,
        `row is longer than ${MAX_ROW_BYTES} bytes; is this a ${SERIES_CSV_HEADER} CSV?`,
        this.line,
      );
    }
    return this.batch;
  }

  /** Reads the last row (a file need not end with a line break) and checks the input was not empty. */
  async end(): Promise<SeriesBatch> {
    // A CR that ends the input ends its last line, as the CR of a CRLF would.
    const last = this.endsInCr ? LF_BYTES : undefined;
    this.take(last ?? NO_BYTES);
    const ended = finished(this.parser, { readable: false });
    this.parser.end(last);
    try {
      await ended;
    } catch (error) {
      throw this.failure ?? this.parseError(error as Error);
    }
    if (this.failure) throw this.failure;
    if (!this.headerRead) {
      throw this.error(
        SeriesCsvErrorCode.MISSING_HEADER,
        undefined,
        `the input is empty; expected the header "${SERIES_CSV_HEADER}"`,
        this.parser.info.lines,
      );
    }
    return this.batch;
  }

  /** Appends `chunk` to the bytes kept, dropping those already read, and starts a new batch. */
  private take(chunk: Buffer): void {
    this.passSkipped();
    const unread = this.buffer.subarray(this.next - this.bufferStart);
    this.buffer = unread.length === 0 ? chunk : chunk.length === 0 ? unread : Buffer.concat([unread, chunk]);
    this.bufferStart = this.next;
    this.bytesIn += chunk.length;
    if (chunk.length > 0) this.endsInCr = chunk[chunk.length - 1] === CR;
    this.batch.reset(this.buffer);
  }

  /** Moves `next` past what the parser skipped since it was last moved: a byte order mark, blank lines. */
  private passSkipped(): void {
    const { buffer, bufferStart } = this;
    if (this.next === 0 && buffer.subarray(0, UTF8_BOM.length).equals(UTF8_BOM)) this.next = UTF8_BOM.length;
    for (; this.blankLines < this.parser.info.empty_lines; this.blankLines++) {
      this.next += buffer[this.next - bufferStart] === CR ? 2 : 1;
      this.line++;
    }
  }

  private read(fields: string[]): void {
    if (this.failure) return;
    this.passSkipped();
    // The parser counts bytes from the start of the input, to the end of the record's line break.
    const recordEnd = this.parser.info.bytes;
    const start = this.next - this.bufferStart;
    let end = recordEnd - this.bufferStart;
    if (this.buffer[end - 1] === LF) end -= this.buffer[end - 2] === CR ? 2 : 1;
    const line = this.line;
    this.next = recordEnd;
    this.line += 1 + lineBreaks(this.buffer, start, end);
    try {
      if (this.headerRead) this.readRow(fields, start, end, line);
      else this.readHeader(fields, start, end, line);
    } catch (error) {
      this.failure = error as Error;
    }
  }

  private readHeader(fields: string[], start: number, end: number, line: number): void {
    if (this.parser.options.encoding !== 'utf8') {
      // csv-parse decodes UTF-16 after its byte order mark; rows are copied through as bytes.
      throw this.error(
        SeriesCsvErrorCode.BAD_HEADER,
        undefined,
        `the input is UTF-16; expected UTF-8 starting with the header "${SERIES_CSV_HEADER}"`,
        line,
      );
    }
    if (fields.length === 2 && fields[0] === 'timestamp' && fields[1] === 'value') {
      this.headerRead = true;
      return;
    }
    const found = shown(this.buffer.toString('utf8', start, end));
    if (!Number.isNaN(parseTimestamp(fields[0]))) {
      throw this.error(
        SeriesCsvErrorCode.MISSING_HEADER,
        undefined,
        `the header "${SERIES_CSV_HEADER}" is missing: the first line is a row, ${found}`,
        line,
      );
    }
    throw this.error(
      SeriesCsvErrorCode.BAD_HEADER,
      undefined,
      `the header must be "${SERIES_CSV_HEADER}", found ${found}`,
      line,
    );
  }

  /** Reads a row of two fields: csv-parse refuses a record with more or fewer than the header. */
  private readRow(fields: string[], start: number, end: number, line: number): void {
    const timestamp = fields[0];
    const valueText = fields[1];
    if (timestamp.length === 0) {
      throw this.error(SeriesCsvErrorCode.EMPTY_FIELD, 'timestamp', 'timestamp is empty', line);
    }
    const t = parseTimestamp(timestamp);
    if (Number.isNaN(t)) {
      throw this.error(
        SeriesCsvErrorCode.BAD_TIMESTAMP,
        'timestamp',
        `timestamp ${shownField(timestamp)} is not in a known format: ${TIMESTAMP_FORMATS}`,
        line,
      );
    }
    const value = Number(valueText);
    // Number() reads '' and blanks as 0, so emptiness is checked on the text.
    if (value === 0 && BLANK.test(valueText)) {
      throw this.error(SeriesCsvErrorCode.EMPTY_FIELD, 'value', 'value is empty', line);
    }
    if (Number.isNaN(value) || NOT_ASCII.test(valueText)) {
      const shownValue = shownField(valueText);
      throw this.error(SeriesCsvErrorCode.BAD_VALUE, 'value', `value ${shownValue} is not a number`, line);
    }
    this.batch.add(t, value, line, start, end);
  }

  /** csv-parse's refusal of the record it was reading, as this reader words it. */
  private parseError(error: Error): Error {
    if (!(error instanceof CsvError)) return error;
    this.passSkipped();
    const line = this.line;
    const field = typeof error.column === 'number' ? fieldName(error.column) : undefined;
    switch (error.code) {
      case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH': {
        const count = Array.isArray(error.record) ? error.record.length : NaN;
        return count === 1
          ? this.error(
              SeriesCsvErrorCode.FIELD_COUNT,
              'value',
              'value is missing: the row has one field',
              line,
            )
          : this.error(
              SeriesCsvErrorCode.FIELD_COUNT,
              undefined,
              `expected 2 fields (${SERIES_CSV_HEADER}), found ${count}`,
              line,
            );
      }
      case 'CSV_INVALID_CLOSING_QUOTE':
        return this.error(
          SeriesCsvErrorCode.BAD_QUOTING,
          field,
          'a closing quote must be followed by a comma or a line break',
          line,
        );
      case 'INVALID_OPENING_QUOTE':
        return this.error(
          SeriesCsvErrorCode.BAD_QUOTING,
          field,
          'a quote inside an unquoted field; quote the whole field, doubling the quotes in it',
          line,
        );
      case 'CSV_QUOTE_NOT_CLOSED':
        return this.error(SeriesCsvErrorCode.BAD_QUOTING, field, 'quoted field is never closed', line);
      default:
        return error;
    }
  }

  private error(
    code: SeriesCsvErrorCode,
    field: SeriesCsvField | undefined,
    detail: string,
    line: number,
  ): SeriesCsvError {
    return new SeriesCsvError(code, this.source, line, field, detail);
  }
}

class RowBatch implements SeriesBatch {
  length = 0;
  source: Uint8Array = NO_BYTES;
  times = new Float64Array(1024);
  values = new Float64Array(1024);
  lines = new Float64Array(1024);
  starts = new Uint32Array(1024);
  ends = new Uint32Array(1024);

  reset(source: Uint8Array): void {
    this.source = source;
    this.length = 0;
  }

  add(t: number, value: number, line: number, start: number, end: number): void {
    if (this.length === this.times.length) this.grow();
    const k = this.length++;
    this.times[k] = t;
    this.values[k] = value;
    this.lines[k] = line;
    this.starts[k] = start;
    this.ends[k] = end;
  }

  private grow(): void {
    const capacity = this.times.length * 2;
    this.times = grown(this.times, new Float64Array(capacity));
    this.values = grown(this.values, new Float64Array(capacity));
    this.lines = grown(this.lines, new Float64Array(capacity));
    this.starts = grown(this.starts, new Uint32Array(capacity));
    this.ends = grown(this.ends, new Uint32Array(capacity));
  }
}

function grown<A extends Float64Array | Uint32Array>(from: A, to: A): A {
  to.set(from);
  return to;
}

/** Line breaks in `buffer[start..end)`: only a quoted field can hold them. */
function lineBreaks(buffer: Buffer, start: number, end: number): number {
  let count = 0;
  for (let at = buffer.indexOf(LF, start); at >= 0 && at < end; at = buffer.indexOf(LF, at + 1)) count++;
  return count;
}

function fieldName(index: number): SeriesCsvField | undefined {
  return index === 0 ? 'timestamp' : index === 1 ? 'value' : undefined;
}

/** Input as an error message shows it: as written, quoted, cut short if long. */
function shown(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/**
 * A field as an error message shows it: as written between its quotes. csv-parse
 * refuses a quote in an unquoted field, so one in a field was written doubled.
 */
function shownField(field: string): string {
  return shown(field.replaceAll('"', '""'));
}
