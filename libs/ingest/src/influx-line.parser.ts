import { showString } from './input-text';

/**
 * A parser of InfluxDB line protocol, the text Telegraf writes:
 *
 *     measurement[,tag=value...] field=value[,field=value...] [timestamp]
 *
 * It follows InfluxData's reference decoder (github.com/influxdata/line-protocol v2,
 * which Telegraf parses with). Written here because npm has no maintained parser: the
 * one published, influx-line-protocol-parser, splits on spaces without honouring escapes,
 * reads nanosecond timestamps into doubles, and logs instead of reporting errors.
 *
 * - A backslash escapes `,` and space in a measurement; `,`, `=` and space in tag keys,
 *   tag values and field keys; `"`, `\` (and `n`, `r`, `t`) in string field values.
 *   Before any other character a backslash is itself.
 * - Field values: floats (`1`, `-1.5e3`), integers (`7i`, signed 64-bit), unsigned
 *   integers (`7u`), booleans (`t`, `T`, `true`, `True`, `TRUE` and the same for false)
 *   and double-quoted strings, which may span lines.
 * - Lines end with `\n` or `\r\n`; blank lines and lines starting with `#` are skipped;
 *   control characters are refused outside string values.
 *
 * A line with a syntax error is reported and the parser resumes at the next line, so one
 * bad line does not cost the others.
 */
export function parseInfluxLines(text: string): InfluxLine[] {
  return new LineReader(text).lines();
}

export type InfluxFieldValue =
  | { readonly type: 'float' | 'integer' | 'uinteger'; readonly value: number }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'string'; readonly value: string };

export type InfluxField = { readonly key: string } & InfluxFieldValue;

export interface InfluxEntry {
  readonly measurement: string;
  readonly tags: ReadonlyArray<readonly [string, string]>;
  readonly fields: readonly InfluxField[];
  /** The timestamp's digits as written (units from the request's precision); undefined when absent. */
  readonly timestamp: string | undefined;
}

/** A syntax error: `element` is the part of the line at fault, e.g. `tag "host"`. */
export interface InfluxSyntaxError {
  readonly element: string;
  readonly problem: string;
}

export type InfluxLine = {
  /** The 1-based number of the line the entry starts on. */
  readonly line: number;
  /** Where the entry is in the text: `[start, end)`, its line ending included. */
  readonly start: number;
  readonly end: number;
} & (
  | { readonly ok: true; readonly entry: InfluxEntry }
  | { readonly ok: false; readonly error: InfluxSyntaxError }
);

const NEWLINE = 0x0a;
const RETURN = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const HASH = 0x23;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;
const DELETE = 0x7f;

/** Which characters end a token, and which a backslash escapes in it. */
interface TokenKind {
  readonly ends: ReadonlySet<number>;
  readonly escapes: ReadonlySet<number>;
}

const codes = (characters: string): ReadonlySet<number> =>
  new Set([...characters].map((c) => c.charCodeAt(0)));

/** `\r` ends a token too, where it starts a line ending: see `LineReader.atLineEnd`. */
const MEASUREMENT: TokenKind = { ends: codes(', \n'), escapes: codes(', ') };
/** Tag keys, tag values and field keys. */
const KEY_OR_TAG_VALUE: TokenKind = { ends: codes(',= \n'), escapes: codes(',= ') };
/** Where an unquoted field value ends: at the next field, the timestamp or the line's end. */
const VALUE: TokenKind = { ends: codes(', \n'), escapes: new Set() };
const STRING_ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', n: '\n', r: '\r', t: '\t' };

const BOOLEAN_START = /^[tTfF]/;
const NUMBER_START = /^[-0-9.]/;
const TRUE = new Set(['t', 'T', 'true', 'True', 'TRUE']);
const FALSE = new Set(['f', 'F', 'false', 'False', 'FALSE']);
const FLOAT = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const INTEGER = /^-?\d+$/;
const UNSIGNED = /^\d+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
/** Integers of up to this many digits fit 64 bits whatever they are: only longer ones need checking. */
const ALWAYS_64_BIT_DIGITS = 18;

/** Thrown inside the reader to abandon a line; never escapes `parseInfluxLines`. */
class LineSyntaxError extends Error {
  constructor(
    readonly element: string,
    readonly problem: string,
  ) {
    super(`${element}: ${problem}`);
  }
}

class LineReader {
  private pos = 0;
  private line = 1;

  constructor(private readonly text: string) {}

  lines(): InfluxLine[] {
    const out: InfluxLine[] = [];
    for (;;) {
      this.skipBlankLinesAndComments();
      if (this.pos >= this.text.length) return out;
      const start = this.pos;
      const line = this.line;
      try {
        const entry = this.entry();
        out.push({ line, start, end: this.pos, ok: true, entry });
      } catch (error) {
        if (!(error instanceof LineSyntaxError)) throw error;
        this.skipRestOfLine();
        out.push({
          line,
          start,
          end: this.pos,
          ok: false,
          error: { element: error.element, problem: error.problem },
        });
      }
    }
  }

  private entry(): InfluxEntry {
    const measurement = this.token(MEASUREMENT, 'measurement');
    if (measurement === '') this.fail('measurement', 'missing: a line starts with the measurement name');
    const tags: Array<[string, string]> = [];
    let last = 'measurement';
    while (this.at() === COMMA) {
      this.pos++;
      const key = this.token(KEY_OR_TAG_VALUE, 'tag key');
      if (key === '') this.fail('tag key', 'missing after ","');
      last = `tag ${showString(key)}`;
      if (this.at() !== EQUALS) this.fail(last, 'expected "=" and a value after the key');
      this.pos++;
      const value = this.token(KEY_OR_TAG_VALUE, last);
      if (value === '') this.fail(last, 'value is empty (leave the tag out instead)');
      tags.push([key, value]);
    }
    if (this.at() !== SPACE) {
      if (this.atLineEnd()) this.fail('fields', 'missing: a line needs at least one field after a space');
      this.fail(last, `unexpected ${this.shownCharacter()} (a backslash escapes it)`);
    }
    this.skipSpaces();
    if (this.atLineEnd()) this.fail('fields', 'missing: a line needs at least one field after a space');
    const fields: InfluxField[] = [];
    do {
      if (fields.length > 0) this.pos++; // the comma
      fields.push(this.field());
    } while (this.at() === COMMA);
    let timestamp: string | undefined;
    if (this.at() === SPACE) {
      this.skipSpaces();
      if (!this.atLineEnd()) timestamp = this.timestamp();
    } else if (!this.atLineEnd()) {
      const element = `field ${showString(fields[fields.length - 1].key)}`;
      this.fail(element, `unexpected ${this.shownCharacter()} after the value`);
    }
    this.skipLineEnd();
    return { measurement, tags, fields, timestamp };
  }

  private field(): InfluxField {
    if (this.atLineEnd()) this.fail('fields', 'missing a field after ","');
    const key = this.token(KEY_OR_TAG_VALUE, 'field key');
    if (key === '') this.fail('field key', `missing before ${this.shownCharacter()}`);
    const element = `field ${showString(key)}`;
    if (this.at() !== EQUALS) this.fail(element, 'expected "=" and a value after the key');
    this.pos++;
    if (this.at() === QUOTE) return { key, type: 'string', value: this.string(element) };
    const raw = this.token(VALUE, element);
    return { key, ...fieldValue(raw, (problem) => this.fail(element, problem)) };
  }

  private string(element: string): string {
    let out = '';
    let segment = ++this.pos;
    const { text } = this;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c === QUOTE) {
        out += text.slice(segment, this.pos++);
        return out;
      }
      if (c === BACKSLASH && Object.hasOwn(STRING_ESCAPES, text.charAt(this.pos + 1))) {
        out += text.slice(segment, this.pos) + STRING_ESCAPES[text.charAt(this.pos + 1)];
        this.pos += 2;
        segment = this.pos;
        continue;
      }
      if (c === NEWLINE) this.line++;
      this.pos++;
    }
    return this.fail(element, 'string value has no closing double quote');
  }

  private timestamp(): string {
    const start = this.pos;
    while (this.pos < this.text.length && this.at() !== SPACE && !this.atLineEnd()) this.pos++;
    const digits = this.text.slice(start, this.pos);
    if (!INTEGER.test(digits)) this.fail('timestamp', `${showString(digits)} is not an integer`);
    this.skipSpaces();
    if (!this.atLineEnd()) this.fail('timestamp', `unexpected ${this.shownCharacter()} after the timestamp`);
    return digits;
  }

  /** A token of `kind`, unescaped. */
  private token(kind: TokenKind, element: string): string {
    const { text } = this;
    let out = '';
    let segment = this.pos;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c === BACKSLASH && kind.escapes.has(text.charCodeAt(this.pos + 1))) {
        out += text.slice(segment, this.pos) + text.charAt(this.pos + 1);
        this.pos += 2;
        segment = this.pos;
        continue;
      }
      if (kind.ends.has(c) || (c === RETURN && this.atLineEnd())) break;
      if (c < SPACE || c === DELETE) this.fail(element, `contains a control character (${codePoint(c)})`);
      this.pos++;
    }
    return out + text.slice(segment, this.pos);
  }

  private skipBlankLinesAndComments(): void {
    for (;;) {
      this.skipSpaces();
      const c = this.at();
      if (c === HASH) {
        while (this.pos < this.text.length && this.at() !== NEWLINE) this.pos++;
        this.skipLineEnd();
      } else if (this.pos < this.text.length && this.atLineEnd()) {
        this.skipLineEnd();
      } else {
        return;
      }
    }
  }

  private skipRestOfLine(): void {
    while (this.pos < this.text.length && this.at() !== NEWLINE) this.pos++;
    this.skipLineEnd();
  }

  private skipSpaces(): void {
    while (this.at() === SPACE) this.pos++;
  }

  /** At the end of the text, or of a line: `\n`, `\r\n`, or a `\r` that ends the text (as the reference decoder reads it). */
  private atLineEnd(): boolean {
    const c = this.at();
    if (Number.isNaN(c) || c === NEWLINE) return true;
    return (
      c === RETURN && (this.pos + 1 === this.text.length || this.text.charCodeAt(this.pos + 1) === NEWLINE)
    );
  }

  private skipLineEnd(): void {
    if (this.at() === RETURN) this.pos++;
    if (this.at() === NEWLINE) {
      this.pos++;
      this.line++;
    }
  }

  /** The code unit at the read position; NaN at the end. */
  private at(): number {
    return this.text.charCodeAt(this.pos);
  }

  private shownCharacter(): string {
    const c = this.at();
    return c < SPACE || c === DELETE
      ? `control character ${codePoint(c)}`
      : showString(this.text.charAt(this.pos));
  }

  private fail(element: string, problem: string): never {
    throw new LineSyntaxError(element, problem);
  }
}

/** The typed value of an unquoted field value `raw`. */
function fieldValue(raw: string, fail: (problem: string) => never): InfluxFieldValue {
  if (raw === '') return fail('value is missing');
  const notAValue = () => fail(`${showString(raw)} is not a number, a boolean or a double-quoted string`);
  // The first character decides the type, as in the reference decoder.
  if (BOOLEAN_START.test(raw)) {
    if (TRUE.has(raw)) return { type: 'boolean', value: true };
    return FALSE.has(raw) ? { type: 'boolean', value: false } : notAValue();
  }
  if (!NUMBER_START.test(raw)) return notAValue();
  const suffix = raw.charAt(raw.length - 1);
  if (suffix === 'i' || suffix === 'u') {
    const digits = raw.slice(0, -1);
    const unsigned = suffix === 'u';
    if (!(unsigned ? UNSIGNED : INTEGER).test(digits)) {
      return fail(`${showString(raw)} is not ${unsigned ? 'an unsigned' : 'an'} integer`);
    }
    if (digits.replace('-', '').length > ALWAYS_64_BIT_DIGITS) {
      const big = BigInt(digits);
      if (unsigned ? big > UINT64_MAX : big < INT64_MIN || big > INT64_MAX) {
        return fail(`${raw} is outside the ${unsigned ? 'unsigned ' : ''}64-bit integer range`);
      }
    }
    // A double holds integers exactly up to 2^53; beyond, the nearest double is the value.
    return { type: unsigned ? 'uinteger' : 'integer', value: Number(digits) };
  }
  return FLOAT.test(raw) ? { type: 'float', value: Number(raw) } : notAValue();
}

function codePoint(c: number): string {
  return `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}
