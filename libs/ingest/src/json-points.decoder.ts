import { z } from 'zod';
import { type DecodeResult, type Rejection } from './decode-result';
import { type DecoderOptions } from './decoder-options';
import { rawIdentityKey } from './identity-key';
import { IngestException, IngestExceptionCode } from './ingest.exception';
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from './ingest-limits';
import { memberPath, showInput, showString } from './input-text';
import { type Point, type SeriesIdentity } from './point';
import { FINITE_NUMBER, type PointFields, PointValidator, type Validated } from './point.validator';
import { RecentCache } from './recent.cache';

/**
 * `POST /v1/points`: `{"points": [{"series", "ts", "value", "labels"?}]}`.
 *
 * `series` is the metric name; `labels` an object of string values; `ts` epoch
 * milliseconds (a number) or an RFC 3339 timestamp with a zone; `value` a finite number.
 * A body that is not such an envelope is refused whole (`IngestException`); a bad point
 * is refused alone, as `{index, error}` with its index in `points`. Unknown fields are
 * errors, so a misspelt `valeu` is reported rather than read as a missing value.
 * Names use the `printable` charset by default.
 */
export class JsonPointsDecoder {
  private readonly limits: IngestLimits;
  private readonly validator: PointValidator;
  /** Identities that passed every check, by the raw metric and labels they came with: a hit is what the validator would answer. */
  private readonly identities = new RecentCache<SeriesIdentity>();

  constructor(options: DecoderOptions = {}) {
    this.limits = options.limits ?? DEFAULT_INGEST_LIMITS;
    this.validator = new PointValidator(this.limits, options.charset ?? 'printable');
  }

  /**
   * `body` is the request body, either as bytes or text of JSON, or already parsed (as a
   * framework's JSON body parser leaves it). `now` is the server's epoch milliseconds.
   */
  decode(body: unknown, now: number): DecodeResult {
    const inputs = this.envelope(
      typeof body === 'string' || body instanceof Uint8Array ? this.parse(body) : body,
    );
    const points: Point[] = [];
    const rejected: Rejection[] = [];
    const origins: number[] = [];
    for (let index = 0; index < inputs.length; index++) {
      const point = this.point(inputs[index], new JsonPointFields(index), now);
      if (point.ok) {
        points.push(point.value);
        origins.push(index);
      } else rejected.push({ index, error: point.error });
    }
    return { points, rejected, skipped: 0, origins };
  }

  private parse(body: string | Uint8Array): unknown {
    const size = typeof body === 'string' ? body.length : body.byteLength;
    if (size > this.limits.maxBodyBytes) {
      throw new IngestException(
        IngestExceptionCode.TOO_LARGE,
        `body: more than the limit of ${this.limits.maxBodyBytes} bytes`,
      );
    }
    let text: string;
    try {
      text = typeof body === 'string' ? body : STRICT_UTF8.decode(body);
    } catch {
      throw new IngestException(IngestExceptionCode.MALFORMED_BODY, 'body: not valid UTF-8');
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new IngestException(
        IngestExceptionCode.MALFORMED_BODY,
        `body: not valid JSON (${error instanceof Error ? error.message : String(error)})`,
      );
    }
  }

  private envelope(body: unknown): unknown[] {
    const parsed = ENVELOPE.safeParse(body);
    if (!parsed.success) {
      throw new IngestException(
        IngestExceptionCode.MALFORMED_BODY,
        envelopeError(parsed.error.issues[0], body),
      );
    }
    const { points } = parsed.data;
    if (points.length > this.limits.maxPointsPerRequest) {
      throw new IngestException(
        IngestExceptionCode.TOO_LARGE,
        `points: ${points.length} points, more than the limit of ${this.limits.maxPointsPerRequest} per request`,
      );
    }
    return points;
  }

  private point(raw: unknown, fields: JsonPointFields, now: number): Validated<Point> {
    // The common case is checked by hand; zod (which allocates a copy of every point)
    // only runs on what the quick check does not pass, to accept it or name the error.
    if (!hasPointShape(raw)) {
      const shape = POINT.safeParse(raw);
      if (!shape.success) return { ok: false, error: pointError(shape.error.issues, raw, fields) };
    }
    // The input, not zod's copy: zod drops a label named "__proto__" silently, which must be refused instead.
    const { series, ts, value, labels } = raw as z.infer<typeof POINT>;
    const key = rawIdentityKey(series, labels);
    let identity = this.identities.get(key);
    if (identity === undefined) {
      const checked = this.validator.identity(series, Object.entries(labels ?? {}), fields);
      if (!checked.ok) return checked;
      identity = checked.value;
      this.identities.set(key, identity);
    }
    const t = this.timestamp(ts, fields.t, now);
    if (!t.ok) return t;
    const checked = this.validator.value(value, fields.value);
    if (!checked.ok) return checked;
    return {
      ok: true,
      value: {
        series: identity.series,
        metric: identity.metric,
        labels: identity.labels,
        t: t.value,
        value: checked.value,
      },
    };
  }

  private timestamp(ts: number | string, field: string, now: number): Validated<number> {
    if (typeof ts === 'string') {
      if (!RFC_3339.safeParse(ts).success) {
        return {
          ok: false,
          error: `${field}: ${TS_FORMS}, like "2024-05-01T12:00:00Z", got ${showString(ts)}`,
        };
      }
      return this.validator.timestamp(Date.parse(ts), field, now);
    }
    const checked = this.validator.timestamp(ts, field, now);
    if (checked.ok) return checked;
    // The common mistake is a timestamp in another unit: say which, when one fits.
    const unit = EPOCH_UNITS.find(([, toMs]) => this.validator.inWindow(ts * toMs, now));
    return unit === undefined
      ? checked
      : { ok: false, error: `${checked.error}; it looks like epoch ${unit[0]}, but ts takes milliseconds` };
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

const POINT_FIELDS = new Set(['series', 'ts', 'value', 'labels']);

/**
 * Whether `raw` certainly passes POINT: a plain object of known fields, a string series, a
 * finite number or a string ts, a finite value, and labels of string values if any. What
 * it does not pass may still be valid (zod decides), never the other way round.
 */
function hasPointShape(raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return false;
  const point = raw as Record<string, unknown>;
  for (const key in point) if (!POINT_FIELDS.has(key)) return false;
  const { series, ts, value, labels } = point;
  if (typeof series !== 'string' || typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (!(typeof ts === 'string' || (typeof ts === 'number' && Number.isFinite(ts)))) return false;
  if (labels === undefined) return true;
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) return false;
  for (const name in labels) if (typeof (labels as Record<string, unknown>)[name] !== 'string') return false;
  return true;
}

const ENVELOPE = z.strictObject({ points: z.array(z.unknown()) });

const POINT = z.strictObject({
  series: z.string(),
  ts: z.union([z.number(), z.string()]),
  value: z.number(),
  labels: z.record(z.string(), z.string()).optional(),
});

/** Zod's check of RFC 3339 with a zone: a calendar date, seconds, any fraction, `Z` or `±HH:MM`. */
const RFC_3339 = z.iso.datetime({ offset: true });

const TS_FORMS = 'must be epoch milliseconds or an RFC 3339 timestamp with a zone';

const EPOCH_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['seconds', 1000],
  ['microseconds', 1e-3],
  ['nanoseconds', 1e-6],
];

/** What each field of a point must be, for type errors. */
const EXPECTED: Readonly<Record<string, string>> = {
  series: 'must be a string (the metric name)',
  ts: TS_FORMS,
  value: FINITE_NUMBER,
  labels: 'must be an object whose values are strings',
};

/** Names the fields of `points[index]`, computed only when an error needs them. */
class JsonPointFields implements PointFields {
  constructor(private readonly index: number) {}

  get point(): string {
    return `points[${this.index}]`;
  }
  get metric(): string {
    return `${this.point}.series`;
  }
  get labels(): string {
    return `${this.point}.labels`;
  }
  get t(): string {
    return `${this.point}.ts`;
  }
  get value(): string {
    return `${this.point}.value`;
  }
  label(name: string): string {
    return `${this.labels}${memberPath(name)}`;
  }
}

function envelopeError(issue: z.core.$ZodIssue, body: unknown): string {
  if (issue.code === 'unrecognized_keys') {
    return `${memberPath(issue.keys[0]).replace(/^\./, '')}: unknown field (the body has only "points")`;
  }
  if (issue.path.length === 0) return `body: must be a JSON object {"points": [...]}, got ${showInput(body)}`;
  const points = (body as { points?: unknown }).points;
  return points === undefined ? 'points: required' : `points: must be an array, got ${showInput(points)}`;
}

function pointError(issues: z.core.$ZodIssue[], raw: unknown, fields: JsonPointFields): string {
  // A misspelt field explains the "required" error about the real one: report it first.
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0];
  if (issue.code === 'unrecognized_keys') {
    return `${fields.point}${memberPath(issue.keys[0])}: unknown field (a point has series, ts, value and labels)`;
  }
  const [field, label] = issue.path as Array<string | number>;
  if (field === undefined) return `${fields.point}: must be an object, got ${showInput(raw)}`;
  const input = inputAt(raw, issue.path);
  if (label !== undefined) {
    return `${fields.label(String(label))}: value must be a string, got ${showInput(input)}`;
  }
  const name = `${fields.point}.${String(field)}`;
  return input === undefined ? `${name}: required` : `${name}: ${EXPECTED[field]}, got ${showInput(input)}`;
}

function inputAt(raw: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let at = raw;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}
