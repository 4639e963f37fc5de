import { type SeriesIdentity } from './point';

/**
 * The canonical key of a series, in the syntax Prometheus 3 prints series in:
 * `http_requests_total{code="200",method="GET"}`. Labels are sorted by name and
 * empty-valued labels dropped (Prometheus treats `a=""` as no label `a`). A metric or
 * label name outside Prometheus' classic character set is double-quoted, the metric then
 * moving inside the braces: `{"cpu.load",host="a"}`. Quoted text escapes `\`, `"` and
 * newline as `\\`, `\"` and `\n`.
 *
 * The key is injective: two label sets differing after normalisation never share a key,
 * which `parseSeriesKey` demonstrates by inverting it.
 */
export function seriesKey(metric: string, labels: Readonly<Record<string, string>> = {}): string {
  return seriesKeyOfSorted(metric, sortedLabels(labels));
}

/** `seriesKey` of labels already normalised: names unique, values non-empty, sorted by `compareCodePoints`. */
export function seriesKeyOfSorted(metric: string, labels: ReadonlyArray<readonly [string, string]>): string {
  const bare = CLASSIC_METRIC_NAME.test(metric);
  let key = bare ? metric : `{${quote(metric)}`;
  if (labels.length === 0) return bare ? key : `${key}}`;
  for (let i = 0; i < labels.length; i++) {
    const [name, value] = labels[i];
    key += i === 0 && bare ? '{' : ',';
    key += CLASSIC_LABEL_NAME.test(name) ? name : quote(name);
    key += `=${quote(value)}`;
  }
  return `${key}}`;
}

/** The labels with a non-empty value, as `[name, value]` pairs sorted by name. */
export function sortedLabels(labels: Readonly<Record<string, string>>): Array<[string, string]> {
  return Object.entries(labels)
    .filter(([, value]) => value !== '')
    .sort(([a], [b]) => compareCodePoints(a, b));
}

/**
 * Orders strings by Unicode code point, which is also the byte order of their UTF-8 form,
 * the order Prometheus sorts labels in. JavaScript's `<` compares UTF-16 code units,
 * which disagrees for characters U+E000..U+FFFF against those above U+FFFF (stored as
 * surrogates, D800..DFFF): shifting both ranges at the first difference fixes that, as
 * ICU's code point order comparison does.
 */
export function compareCodePoints(a: string, b: string): number {
  const shared = Math.min(a.length, b.length);
  for (let i = 0; i < shared; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/**
 * The metric and labels of a key `seriesKey` produced, or undefined for any other text,
 * including a key that is well-formed but not canonical (unsorted labels, an empty value,
 * quotes around a name that needs none): each series has exactly one key.
 */
export function parseSeriesKey(key: string): Omit<SeriesIdentity, 'series'> | undefined {
  const reader = new KeyReader(key);
  const parsed = reader.identity();
  if (parsed === undefined || seriesKey(parsed.metric, parsed.labels) !== key) return undefined;
  return parsed;
}

/** Prometheus' classic metric name, which needs no quotes. */
const CLASSIC_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** Prometheus' classic label name, which needs no quotes. */
const CLASSIC_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const NEEDS_ESCAPE = /[\\"\n]/;

function quote(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return `"${text}"`;
  return `"${text.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`;
}

/** A recursive-descent reader of the syntax above; any deviation is undefined. */
class KeyReader {
  private pos = 0;

  constructor(private readonly text: string) {}

  identity(): { metric: string; labels: Record<string, string> } | undefined {
    const inside = this.text.startsWith('{');
    let metric: string | undefined;
    if (inside) {
      this.pos = 1;
      metric = this.quoted();
    } else {
      metric = this.bare(/[a-zA-Z0-9_:]/);
      if (this.pos === this.text.length) return { metric, labels: {} };
    }
    if (metric === undefined) return undefined;
    const labels: Record<string, string> = {};
    let separator = inside ? ',' : '{';
    while (this.text[this.pos] === separator) {
      this.pos++;
      const name = this.text[this.pos] === '"' ? this.quoted() : this.bare(/[a-zA-Z0-9_]/);
      if (name === undefined || this.text[this.pos] !== '=') return undefined;
      this.pos++;
      const value = this.quoted();
      if (value === undefined) return undefined;
      // defineProperty, not assignment: a label named "__proto__" must stay a label.
      Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true });
      separator = ',';
    }
    if (this.text[this.pos] !== '}' || this.pos + 1 !== this.text.length) return undefined;
    return { metric, labels };
  }

  private bare(allowed: RegExp): string {
    const start = this.pos;
    while (this.pos < this.text.length && allowed.test(this.text[this.pos])) this.pos++;
    return this.text.slice(start, this.pos);
  }

  private quoted(): string | undefined {
    if (this.text[this.pos] !== '"') return undefined;
    let out = '';
    for (let i = this.pos + 1; i < this.text.length; i++) {
      const c = this.text[i];
      if (c === '"') {
        this.pos = i + 1;
        return out;
      }
      if (c === '\\') {
        const next = this.text[++i];
        if (next === 'n') out += '\n';
        else if (next === '\\' || next === '"') out += next;
        else return undefined;
      } else {
        out += c;
      }
    }
    return undefined;
  }
}
