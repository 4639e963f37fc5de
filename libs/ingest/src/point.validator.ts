import { DEFAULT_INGEST_LIMITS, type IngestLimits } from './ingest-limits';
import { showString } from './input-text';
import { type Point, type SeriesIdentity } from './point';
import { compareCodePoints, seriesKeyOfSorted } from './series-key';

/**
 * Which characters a metric or label name may use.
 *
 * - `prometheus`: Prometheus' classic names, `[a-zA-Z_:][a-zA-Z0-9_:]*` for metrics and
 *   `[a-zA-Z_][a-zA-Z0-9_]*` for labels. For remote_write, whose senders already keep to it.
 * - `printable`: any Unicode text without control characters (category Cc: U+0000..U+001F,
 *   U+007F..U+009F) or unpaired surrogates. For JSON and Influx line protocol, whose
 *   senders name things `api.latency` or `disk-io`; the series key quotes such names.
 *
 * Under both, label values may hold any text but control characters and unpaired
 * surrogates, and label names starting with `__` are reserved, as in Prometheus.
 */
export type NameCharset = 'prometheus' | 'printable';

export type Validated<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** How a decoder names the fields of a point in its errors, e.g. `points[3].value`. */
export interface PointFields {
  readonly metric: string;
  /** The label set as a whole (too many labels, too long a series key). */
  readonly labels: string;
  label(name: string): string;
  readonly t: string;
  readonly value: string;
}

export type IdentityFields = Pick<PointFields, 'metric' | 'labels' | 'label'>;

/** A point as a decoder read it, not yet checked. */
export interface PointCandidate {
  readonly metric: string;
  readonly labels: Iterable<readonly [string, string]>;
  /** Epoch milliseconds. */
  readonly t: number;
  readonly value: number;
}

/** The first words of every error about a value that is not a finite number. */
export const FINITE_NUMBER = 'must be a finite number';

/**
 * Every rule a point must pass, whichever format it came in: the one place they live.
 * Decoders parse their format, then ask the validator, naming the fields their own way.
 * No method throws: a bad input is an `{ ok: false, error }` whose error starts with the
 * field's name.
 */
export class PointValidator {
  private readonly metricPattern: RegExp | undefined;
  private readonly labelPattern: RegExp | undefined;

  constructor(
    readonly limits: IngestLimits = DEFAULT_INGEST_LIMITS,
    readonly charset: NameCharset = 'printable',
  ) {
    this.metricPattern = charset === 'prometheus' ? PROMETHEUS_METRIC_NAME : undefined;
    this.labelPattern = charset === 'prometheus' ? PROMETHEUS_LABEL_NAME : undefined;
  }

  point(candidate: PointCandidate, fields: PointFields, now: number): Validated<Point> {
    const identity = this.identity(candidate.metric, candidate.labels, fields);
    if (!identity.ok) return identity;
    const t = this.timestamp(candidate.t, fields.t, now);
    if (!t.ok) return t;
    const value = this.value(candidate.value, fields.value);
    if (!value.ok) return value;
    return ok({ ...identity.value, t: t.value, value: value.value });
  }

  identity(
    metric: string,
    labels: Iterable<readonly [string, string]>,
    fields: IdentityFields,
  ): Validated<SeriesIdentity> {
    const name = this.metric(metric, fields.metric);
    if (!name.ok) return name;
    const sorted = this.labels(labels, fields);
    if (!sorted.ok) return sorted;
    return this.series(metric, sorted.value, fields);
  }

  metric(name: string, field: string): Validated<string> {
    const problem =
      name === ''
        ? 'must not be empty'
        : (lengthProblem(name, this.limits.maxMetricNameLength) ??
          characterProblem(name) ??
          patternProblem(name, this.metricPattern, 'a Prometheus metric name'));
    return problem === undefined ? ok(name) : fail(`${field}: ${problem}`);
  }

  /**
   * The labels with empty values dropped (as Prometheus does: `a=""` is no label `a`),
   * checked, and sorted by name: the form `series` takes.
   */
  labels(
    labels: Iterable<readonly [string, string]>,
    fields: IdentityFields,
  ): Validated<Array<[string, string]>> {
    const kept: Array<[string, string]> = [];
    for (const [name, value] of labels) if (value !== '') kept.push([name, value]);
    if (kept.length > this.limits.maxLabels) {
      return fail(`${fields.labels}: ${kept.length} labels, more than the limit of ${this.limits.maxLabels}`);
    }
    kept.sort(([a], [b]) => compareCodePoints(a, b));
    for (let i = 0; i < kept.length; i++) {
      const [name, value] = kept[i];
      if (i > 0 && kept[i - 1][0] === name) return fail(`${fields.label(name)}: label given more than once`);
      const problem =
        this.labelNameProblem(name) ?? labelValueProblem(value, this.limits.maxLabelValueLength);
      if (problem !== undefined) return fail(`${fields.label(name)}: ${problem}`);
    }
    return ok(kept);
  }

  /** The identity of a checked metric and checked, sorted labels, if its key is not too long. */
  series(
    metric: string,
    sortedLabels: Array<[string, string]>,
    fields: IdentityFields,
  ): Validated<SeriesIdentity> {
    const series = seriesKeyOfSorted(metric, sortedLabels);
    const length = lengthProblem(series, this.limits.maxSeriesKeyLength);
    if (length !== undefined) {
      return fail(`${sortedLabels.length > 0 ? fields.labels : fields.metric}: the series key ${length}`);
    }
    // fromEntries defines properties: a label named "__proto__" could not change the prototype.
    return ok({ series, metric, labels: Object.fromEntries(sortedLabels) });
  }

  /** `t` (epoch milliseconds) floored to a whole millisecond, if it is inside the accepted window around `now`. */
  timestamp(t: number, field: string, now: number): Validated<number> {
    if (!Number.isFinite(t)) return fail(`${field}: ${FINITE_NUMBER} of epoch milliseconds, got ${t}`);
    const ms = Math.floor(t);
    if (this.inWindow(ms, now)) return ok(ms);
    const { maxPastMs, maxFutureMs } = this.limits;
    const window = `accepted: ${duration(maxPastMs)} before now to ${duration(maxFutureMs)} after`;
    const side = ms < now ? 'past' : 'future';
    return fail(`${field}: ${instant(ms)} is too far in the ${side} (${window})`);
  }

  /** Whether epoch milliseconds `t` fall in the accepted window around `now`. */
  inWindow(t: number, now: number): boolean {
    const ms = Math.floor(t);
    return ms >= now - this.limits.maxPastMs && ms <= now + this.limits.maxFutureMs;
  }

  value(value: number, field: string): Validated<number> {
    return Number.isFinite(value) ? ok(value) : fail(`${field}: ${FINITE_NUMBER}, got ${value}`);
  }

  private labelNameProblem(name: string): string | undefined {
    if (name === '') return 'name must not be empty';
    const length = lengthProblem(name, this.limits.maxLabelNameLength);
    if (length !== undefined) return `name ${length}`;
    if (name.startsWith('__')) return 'name is reserved: names starting with "__" are for internal use';
    const characters =
      characterProblem(name) ?? patternProblem(name, this.labelPattern, 'a Prometheus label name');
    return characters === undefined ? undefined : `name ${characters}`;
  }
}

const PROMETHEUS_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const PROMETHEUS_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Control characters, and surrogates that are not half of a pair (the `u` flag reads pairs as one character). */
const FORBIDDEN_CHARACTER = /[\p{Cc}\p{Cs}]/u;

function ok<T>(value: T): Validated<T> {
  return { ok: true, value };
}

function fail<T>(error: string): Validated<T> {
  return { ok: false, error };
}

function labelValueProblem(value: string, maxLength: number): string | undefined {
  const length = lengthProblem(value, maxLength);
  if (length !== undefined) return `value ${length}`;
  const characters = characterProblem(value);
  return characters === undefined ? undefined : `value ${characters}`;
}

function lengthProblem(text: string, maxLength: number): string | undefined {
  // UTF-16 length bounds the code point count from above: most text never needs counting.
  if (text.length <= maxLength) return undefined;
  const length = codePointLength(text);
  return length > maxLength ? `has ${length} characters, more than the limit of ${maxLength}` : undefined;
}

function characterProblem(text: string): string | undefined {
  const found = FORBIDDEN_CHARACTER.exec(text);
  if (found === null) return undefined;
  const unit = found[0].charCodeAt(0);
  const code = `U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;
  return unit >= 0xd800 && unit <= 0xdfff
    ? `contains an unpaired surrogate (${code})`
    : `contains a control character (${code})`;
}

function patternProblem(name: string, pattern: RegExp | undefined, what: string): string | undefined {
  if (pattern === undefined || pattern.test(name)) return undefined;
  return `must match ${pattern.source.slice(1, -1)} (${what}), got ${showString(name)}`;
}

function codePointLength(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length--;
        i++;
      }
    }
  }
  return length;
}

/** The largest magnitude a `Date` holds; beyond it `toISOString` throws. */
const MAX_DATE_MS = 8.64e15;

function instant(ms: number): string {
  return Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : `${ms} ms since the epoch`;
}

/** A window bound as people write it: `7d`, `10m`, `1h30m`, `0s`. */
function duration(ms: number): string {
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ];
  let rest = ms;
  let text = '';
  for (const [unit, size] of units) {
    const whole = Math.floor(rest / size);
    if (whole > 0) text += `${whole}${unit}`;
    rest -= whole * size;
  }
  return text === '' ? '0s' : text;
}
