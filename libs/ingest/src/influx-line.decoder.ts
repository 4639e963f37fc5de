import { type DecodeResult, type Rejection } from './decode-result';
import { type DecoderOptions } from './decoder-options';
import { parseInfluxLines, type InfluxEntry, type InfluxField } from './influx-line.parser';
import { COMMON_INFLUX_PRECISIONS, influxTimestampMs, type InfluxPrecision } from './influx-precision';
import { IngestException, IngestExceptionCode } from './ingest.exception';
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from './ingest-limits';
import { showString } from './input-text';
import { type Point } from './point';
import { type PointFields, PointValidator, type Validated } from './point.validator';

/**
 * `POST /v1/write`: InfluxDB line protocol, as Telegraf's `influxdb` output sends it.
 *
 * Each numeric field of a line is one point. Its metric is `<measurement>_<field>`, the
 * name Telegraf's Prometheus outputs give it (`cpu usage_idle=97` is `cpu_usage_idle`),
 * except in measurement `prometheus`, where Telegraf keeps metrics scraped from Prometheus
 * under their own names: there the metric is the field key. Tags are the labels.
 *
 * - Integer and unsigned fields are read as doubles (exact up to 2^53); booleans are 1 and
 *   0, as Telegraf's Prometheus output writes them.
 * - String fields are skipped and counted in `skipped`: Telegraf mixes them into numeric
 *   measurements (`system uptime_format="..."`), and refusing them would refuse every
 *   such batch.
 * - A field key given twice in a line: the last one counts, as InfluxDB stores it.
 * - A line without a timestamp is at `now`, as InfluxDB does.
 *
 * Errors carry the line number as `index` and name the part of the line at fault:
 * `line 4 field "usage_idle": must be a finite number, got Infinity`. Names use the
 * `printable` charset by default.
 */
export class InfluxLineDecoder {
  private readonly limits: IngestLimits;
  private readonly validator: PointValidator;

  constructor(options: DecoderOptions = {}) {
    this.limits = options.limits ?? DEFAULT_INGEST_LIMITS;
    this.validator = new PointValidator(this.limits, options.charset ?? 'printable');
  }

  decode(body: string | Uint8Array, now: number, precision: InfluxPrecision = 'ns'): DecodeResult {
    const size = typeof body === 'string' ? body.length : body.byteLength;
    if (size > this.limits.maxBodyBytes) {
      throw new IngestException(
        IngestExceptionCode.TOO_LARGE,
        `body: more than the limit of ${this.limits.maxBodyBytes} bytes`,
      );
    }
    const { text, lossy } = decodeText(body);
    const lines = parseInfluxLines(text);
    if (lines.length > this.limits.maxPointsPerRequest) {
      throw new IngestException(
        IngestExceptionCode.TOO_LARGE,
        `body: ${lines.length} lines, more than the limit of ${this.limits.maxPointsPerRequest} per request`,
      );
    }
    const points: Point[] = [];
    const rejected: Rejection[] = [];
    const origins: number[] = [];
    let skipped = 0;
    for (const parsed of lines) {
      if (!parsed.ok) {
        const { element, problem } = parsed.error;
        rejected.push({ index: parsed.line, error: `line ${parsed.line} ${element}: ${problem}` });
      } else if (lossy && containsReplacement(text, parsed.start, parsed.end)) {
        // Only a body with invalid UTF-8 somewhere gets here: its lines with a U+FFFD are the broken ones.
        rejected.push({ index: parsed.line, error: `line ${parsed.line}: not valid UTF-8` });
      } else {
        const before = points.length;
        skipped += this.entry(parsed.entry, parsed.line, now, precision, points, rejected);
        for (let i = before; i < points.length; i++) origins.push(parsed.line);
      }
    }
    return { points, rejected, skipped, origins };
  }

  /** Adds the points of one line to `points` or its errors to `rejected`; returns how many fields it skipped. */
  private entry(
    entry: InfluxEntry,
    line: number,
    now: number,
    precision: InfluxPrecision,
    points: Point[],
    rejected: Rejection[],
  ): number {
    const lineFields = new InfluxFields(line, '');
    const t = this.timestamp(entry.timestamp, lineFields.t, now, precision);
    if (!t.ok) {
      rejected.push({ index: line, error: t.error });
      return 0;
    }
    const labels = this.validator.labels(entry.tags, lineFields);
    if (!labels.ok) {
      rejected.push({ index: line, error: labels.error });
      return 0;
    }
    let skipped = 0;
    for (const field of lastOfEachKey(entry.fields)) {
      if (field.type === 'string') {
        skipped++;
        continue;
      }
      const fields = new InfluxFields(line, field.key);
      const metric = entry.measurement === 'prometheus' ? field.key : `${entry.measurement}_${field.key}`;
      const number = field.type === 'boolean' ? Number(field.value) : field.value;
      const checked = this.validator.metric(metric, fields.metric);
      const value = checked.ok ? this.validator.value(number, fields.value) : checked;
      const identity = value.ok ? this.validator.series(metric, labels.value, fields) : value;
      if (identity.ok) points.push({ ...identity.value, t: t.value, value: number });
      else rejected.push({ index: line, error: identity.error });
    }
    return skipped;
  }

  private timestamp(
    digits: string | undefined,
    field: string,
    now: number,
    precision: InfluxPrecision,
  ): Validated<number> {
    if (digits === undefined) return this.validator.timestamp(now, field, now);
    const ms = influxTimestampMs(digits, precision);
    if (ms === undefined)
      return { ok: false, error: `${field}: ${digits} is outside the signed 64-bit range` };
    const checked = this.validator.timestamp(ms, field, now);
    if (checked.ok) return checked;
    // Most such errors are a sender writing seconds or milliseconds without saying so.
    const fits = COMMON_INFLUX_PRECISIONS.find((p) => {
      const other = p === precision ? undefined : influxTimestampMs(digits, p);
      return other !== undefined && this.validator.inWindow(other, now);
    });
    return fits === undefined
      ? checked
      : {
          ok: false,
          error: `${checked.error}; it fits with precision=${fits}, which the request did not give`,
        };
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const LOSSY_UTF8 = new TextDecoder('utf-8');

/**
 * The body as text, and whether it had invalid UTF-8 (then replaced by U+FFFD). A body
 * with a broken byte sequence is not refused whole: only its lines with a U+FFFD are.
 */
function decodeText(body: string | Uint8Array): { text: string; lossy: boolean } {
  if (typeof body === 'string')
    return { text: body.startsWith('\uFEFF') ? body.slice(1) : body, lossy: false };
  try {
    return { text: STRICT_UTF8.decode(body), lossy: false };
  } catch {
    return { text: LOSSY_UTF8.decode(body), lossy: true };
  }
}

function containsReplacement(text: string, start: number, end: number): boolean {
  const at = text.indexOf('\uFFFD', start);
  return at !== -1 && at < end;
}

function lastOfEachKey(fields: readonly InfluxField[]): Iterable<InfluxField> {
  if (fields.length === 1) return fields;
  return new Map(fields.map((field) => [field.key, field])).values();
}

/** Names the parts of line `line` and, for a point, its field `key`. */
class InfluxFields implements PointFields {
  constructor(
    private readonly line: number,
    private readonly key: string,
  ) {}

  get metric(): string {
    return `line ${this.line} measurement and field ${showString(this.key)}`;
  }
  get labels(): string {
    return `line ${this.line} tags`;
  }
  get t(): string {
    return `line ${this.line} timestamp`;
  }
  get value(): string {
    return `line ${this.line} field ${showString(this.key)}`;
  }
  label(name: string): string {
    return `line ${this.line} tag ${showString(name)}`;
  }
}
