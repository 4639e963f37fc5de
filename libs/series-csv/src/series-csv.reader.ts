import { SeriesCsvError, SeriesCsvErrorCode, type SeriesCsvField } from './series-csv.error';
import { parseDecimal } from './decimal';
import { parseTimestamp, parseTimestampBytes, TIMESTAMP_FORMATS } from './timestamp';

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
 * next call, which reuses them so reading allocates nothing per row.
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
const COMMA = 0x2c;
const QUOTE = 0x22;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const EMPTY: Buffer = Buffer.alloc(0);
const NO_BYTES = new Uint8Array(0);

const QUOTED = 1;
const ESCAPED = 2; // quoted, and holds a doubled quote

/**
 * Reads a `timestamp,value` CSV pushed to it in chunks of any size, so a file of any
 * length streams through in constant memory.
 *
 * CSV as RFC 4180 has it: fields may be quoted (`""` is a quote inside one), lines end
 * in LF or CRLF, a UTF-8 byte order mark is skipped, and so are blank lines (they hold
 * no row). The first line must be the header `timestamp,value`. Every other line is
 * one row, kept in file order whatever its timestamp: irregular, repeated or earlier
 * timestamps are data, not errors. Anything else stops reading with a
 * `SeriesCsvError` naming the source, the line and the field.
 *
 * Written as a byte scanner rather than on a general CSV parser because it is the
 * whole cost of `seismo score`: this one reads several million rows a second, where
 * csv-parse manages under one million.
 */
export class SeriesCsvReader {
  private readonly batch = new RowBatch();
  private pending: Buffer | undefined;
  private started = false;
  private headerRead = false;
  /** Line of the next row to read. */
  private line = 1;

  // What scanRow found in the row it scanned; fields past the second are only counted.
  private fieldCount = 0;
  private timestampStart = 0;
  private timestampEnd = 0;
  private timestampFlags = 0;
  private valueStart = 0;
  private valueEnd = 0;
  private valueFlags = 0;
  private rowEnd = 0;
  private quotedBreaks = 0;

  /** `source` names the input in error messages: a path, or `<stdin>`. */
  constructor(readonly source: string) {}

  /** True once the header line has been read and accepted. */
  get hasHeader(): boolean {
    return this.headerRead;
  }

  /** Reads every row `chunk` completes; a row cut off at its end is kept for the next call. */
  push(chunk: Buffer): SeriesBatch {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    if (!this.started) {
      // A byte order mark can only be recognised whole.
      if (buf.length < BOM.length) {
        this.pending = buf;
        this.batch.reset(NO_BYTES);
        return this.batch;
      }
      buf = this.skipBom(buf);
    }
    const used = this.scan(buf, false);
    if (used < buf.length) {
      if (buf.length - used > MAX_ROW_BYTES) {
        throw this.error(
          SeriesCsvErrorCode.ROW_TOO_LONG,
          undefined,
          `row is longer than ${MAX_ROW_BYTES} bytes; is this a ${SERIES_CSV_HEADER} CSV?`,
        );
      }
      this.pending = buf.subarray(used);
    }
    return this.batch;
  }

  /** Reads the last row (a file need not end with a line break) and checks the input was not empty. */
  end(): SeriesBatch {
    let buf = this.pending ?? EMPTY;
    this.pending = undefined;
    if (!this.started) buf = this.skipBom(buf);
    this.scan(buf, true);
    if (!this.headerRead) {
      throw this.error(
        SeriesCsvErrorCode.MISSING_HEADER,
        undefined,
        `the input is empty; expected the header "${SERIES_CSV_HEADER}"`,
      );
    }
    return this.batch;
  }

  private skipBom(buf: Buffer): Buffer {
    this.started = true;
    return buf.subarray(0, BOM.length).equals(BOM) ? buf.subarray(BOM.length) : buf;
  }

  /** Reads the complete rows in `buf` into the batch; returns how many bytes they span. */
  private scan(buf: Buffer, final: boolean): number {
    // Scanned through a plain Uint8Array view: V8 indexes one faster than a Buffer.
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
    this.batch.reset(bytes);
    let pos = 0;
    while (pos < bytes.length) {
      const next = this.scanRow(bytes, pos, final);
      if (next < 0) break;
      const line = this.line;
      this.line += 1 + this.quotedBreaks;
      const blank =
        this.fieldCount === 1 && this.timestampEnd === this.timestampStart && !this.timestampFlags;
      if (!blank) {
        if (this.headerRead) this.readRow(bytes, buf, pos, line);
        else this.readHeader(buf, pos, line);
      }
      pos = next;
    }
    return pos;
  }

  /**
   * Finds the fields of the row starting at `at`; returns where the next row starts,
   * or -1 when the row does not end within `buf` and more input may complete it.
   */
  private scanRow(buf: Uint8Array, at: number, final: boolean): number {
    const n = buf.length;
    let i = at;
    let count = 0;
    let breaks = 0;
    for (;;) {
      let start = i;
      let end: number;
      let flags = 0;
      let textEnd: number; // end of the field as written, closing quote included
      if (i < n && buf[i] === QUOTE) {
        flags = QUOTED;
        start = i + 1;
        let k = buf.indexOf(QUOTE, start);
        // A quote followed by another is an escaped quote; the field ends at a lone one,
        // which can only be told when the byte after it is in `buf`.
        while (k >= 0 && k + 1 < n && buf[k + 1] === QUOTE) {
          flags = QUOTED | ESCAPED;
          k = buf.indexOf(QUOTE, k + 2);
        }
        if (k < 0 || (k + 1 === n && !final)) {
          if (!final) return -1;
          throw this.error(SeriesCsvErrorCode.BAD_QUOTING, fieldName(count), 'quoted field is never closed');
        }
        end = k;
        for (let p = start; p < end; p++) if (buf[p] === LF) breaks++;
        i = textEnd = k + 1;
        if (i < n && buf[i] === CR) {
          if (i + 1 === n && !final) return -1;
          if (i + 1 < n && buf[i + 1] !== LF) throw this.afterQuote(count);
          i++; // the CR of a CRLF; `textEnd` stays before it
        }
        if (i < n && buf[i] !== COMMA && buf[i] !== LF) throw this.afterQuote(count);
      } else {
        while (i < n && buf[i] !== COMMA && buf[i] !== LF) i++;
        if (i === n && !final) return -1;
        end = i;
        if (end > start && buf[end - 1] === CR && (i === n || buf[i] === LF)) end--;
        textEnd = end;
      }
      if (count === 0) {
        this.timestampStart = start;
        this.timestampEnd = end;
        this.timestampFlags = flags;
      } else if (count === 1) {
        this.valueStart = start;
        this.valueEnd = end;
        this.valueFlags = flags;
      }
      count++;
      if (i < n && buf[i] === COMMA) {
        i++;
        continue;
      }
      this.fieldCount = count;
      this.quotedBreaks = breaks;
      this.rowEnd = textEnd;
      return i < n ? i + 1 : n;
    }
  }

  private readHeader(buf: Buffer, rowStart: number, line: number): void {
    const timestamp = fieldText(buf, this.timestampStart, this.timestampEnd, this.timestampFlags);
    const value = this.fieldCount > 1 ? fieldText(buf, this.valueStart, this.valueEnd, this.valueFlags) : '';
    if (this.fieldCount === 2 && timestamp === 'timestamp' && value === 'value') {
      this.headerRead = true;
      return;
    }
    const found = shown(buf, rowStart, this.rowEnd);
    if (!Number.isNaN(parseTimestamp(timestamp))) {
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

  private readRow(bytes: Uint8Array, buf: Buffer, rowStart: number, line: number): void {
    if (this.fieldCount !== 2) {
      throw this.fieldCount === 1
        ? this.error(SeriesCsvErrorCode.FIELD_COUNT, 'value', 'value is missing: the row has one field', line)
        : this.error(
            SeriesCsvErrorCode.FIELD_COUNT,
            undefined,
            `expected 2 fields (${SERIES_CSV_HEADER}), found ${this.fieldCount}`,
            line,
          );
    }
    const { timestampStart, timestampEnd, valueStart, valueEnd } = this;
    if (timestampStart === timestampEnd) {
      throw this.error(SeriesCsvErrorCode.EMPTY_FIELD, 'timestamp', 'timestamp is empty', line);
    }
    // Fields are read in place; only one holding an escaped quote needs a string built.
    const t =
      this.timestampFlags & ESCAPED
        ? parseTimestamp(fieldText(buf, timestampStart, timestampEnd, this.timestampFlags))
        : parseTimestampBytes(bytes, timestampStart, timestampEnd);
    if (Number.isNaN(t)) {
      throw this.error(
        SeriesCsvErrorCode.BAD_TIMESTAMP,
        'timestamp',
        `timestamp ${shown(buf, timestampStart, timestampEnd)} is not in a known format: ${TIMESTAMP_FORMATS}`,
        line,
      );
    }
    const value =
      this.valueFlags & ESCAPED
        ? Number(fieldText(buf, valueStart, valueEnd, this.valueFlags))
        : parseDecimal(bytes, valueStart, valueEnd);
    // Like Number(), parseDecimal reads '' and blanks as 0, so emptiness is checked on the text.
    if (value === 0 && fieldText(buf, valueStart, valueEnd, this.valueFlags).trim().length === 0) {
      throw this.error(SeriesCsvErrorCode.EMPTY_FIELD, 'value', 'value is empty', line);
    }
    if (Number.isNaN(value)) {
      const text = shown(buf, valueStart, valueEnd);
      throw this.error(SeriesCsvErrorCode.BAD_VALUE, 'value', `value ${text} is not a number`, line);
    }
    this.batch.add(t, value, line, rowStart, this.rowEnd);
  }

  private afterQuote(count: number): SeriesCsvError {
    return this.error(
      SeriesCsvErrorCode.BAD_QUOTING,
      fieldName(count),
      'a closing quote must be followed by a comma or a line break',
    );
  }

  private error(
    code: SeriesCsvErrorCode,
    field: SeriesCsvField | undefined,
    detail: string,
    line = this.line,
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

/** A field's text, unescaped. Latin1 is the fast decode, and exact for the ASCII a valid field holds. */
function fieldText(buf: Buffer, start: number, end: number, flags: number): string {
  if (flags & ESCAPED) return buf.toString('utf8', start, end).replaceAll('""', '"');
  return buf.toString('latin1', start, end);
}

function fieldName(index: number): SeriesCsvField | undefined {
  return index === 0 ? 'timestamp' : index === 1 ? 'value' : undefined;
}

/** Input as an error message shows it: as written, quoted, cut short if long. */
function shown(buf: Buffer, start: number, end: number): string {
  const text = buf.toString('utf8', start, Math.min(end, start + 240));
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}
