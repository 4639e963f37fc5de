import { uncompressSync } from 'snappy';
import { type DecodeResult, type Rejection } from './decode-result';
import { type DecoderOptions } from './decoder-options';
import { IngestException, IngestExceptionCode } from './ingest.exception';
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from './ingest-limits';
import { memberPath } from './input-text';
import { type Point } from './point';
import { type PointFields, PointValidator } from './point.validator';
import {
  decodeWriteRequest,
  isStaleMarker,
  sampleTimestamp,
  sampleValue,
  type TimeSeries,
  type WriteRequest,
} from './write-request';

/**
 * `POST /api/v1/write`: Prometheus remote_write 1.0, a snappy-compressed (block format)
 * protobuf `WriteRequest`, as Prometheus, Grafana Agent/Alloy and the OpenTelemetry
 * Collector send it.
 *
 * Each float sample is one point; the `__name__` label is the metric and the other labels
 * are its labels. Stale markers (the NaN Prometheus writes when a series disappears) are
 * skipped and counted in `skipped`; any other NaN is an error. Native histograms are
 * refused, one error per series that has them. Exemplars and metadata are ignored.
 *
 * Errors carry the series' index in `timeseries` as `index` and name the field:
 * `timeseries[2].samples[5].value: must be a finite number, got Infinity`. A series
 * whose labels are bad is refused once, with all its samples. Names use the `prometheus`
 * charset by default, the classic names Prometheus' remote_write senders produce.
 */
export class RemoteWriteDecoder {
  private readonly limits: IngestLimits;
  private readonly validator: PointValidator;

  constructor(options: DecoderOptions = {}) {
    this.limits = options.limits ?? DEFAULT_INGEST_LIMITS;
    this.validator = new PointValidator(this.limits, options.charset ?? 'prometheus');
  }

  decode(body: Uint8Array, now: number): DecodeResult {
    const request = this.writeRequest(body);
    let samples = 0;
    for (const series of request.timeseries) samples += series.samples.length;
    if (samples > this.limits.maxPointsPerRequest) {
      throw new IngestException(
        IngestExceptionCode.TOO_LARGE,
        `body: ${samples} samples, more than the limit of ${this.limits.maxPointsPerRequest} per request`,
      );
    }
    const points: Point[] = [];
    const rejected: Rejection[] = [];
    const origins: number[] = [];
    let skipped = 0;
    request.timeseries.forEach((series, index) => {
      const before = points.length;
      skipped += this.series(series, index, now, points, rejected);
      for (let i = before; i < points.length; i++) origins.push(index);
    });
    return { points, rejected, skipped, origins };
  }

  private writeRequest(body: Uint8Array): WriteRequest {
    if (body.byteLength > this.limits.maxBodyBytes) {
      throw new IngestException(
        IngestExceptionCode.TOO_LARGE,
        `body: more than the limit of ${this.limits.maxBodyBytes} bytes`,
      );
    }
    const length = uncompressedLength(body);
    if (length > this.limits.maxDecompressedBytes) {
      throw new IngestException(
        IngestExceptionCode.TOO_LARGE,
        `body: decompresses to ${length} bytes, more than the limit of ${this.limits.maxDecompressedBytes}`,
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = uncompressSync(body, { asBuffer: true }) as Buffer; // asBuffer: a Buffer, never a string
    } catch (error) {
      throw new IngestException(
        IngestExceptionCode.MALFORMED_BODY,
        `body: not snappy-compressed (block format) data: ${messageOf(error)}`,
      );
    }
    try {
      return decodeWriteRequest(bytes);
    } catch (error) {
      throw new IngestException(
        IngestExceptionCode.MALFORMED_BODY,
        `body: not a remote_write 1.0 WriteRequest: ${messageOf(error)}`,
      );
    }
  }

  /** Adds the points of one series to `points` or its errors to `rejected`; returns the stale markers skipped. */
  private series(
    series: TimeSeries,
    index: number,
    now: number,
    points: Point[],
    rejected: Rejection[],
  ): number {
    const fields = new RemoteWriteFields(index);
    if (series.histograms.length > 0) {
      rejected.push({
        index,
        error: `${fields.series}.histograms: native histograms are not supported (${series.histograms.length} dropped)`,
      });
    }
    if (series.samples.length === 0) return 0;
    const names = series.labels.filter((label) => label.name === METRIC_NAME_LABEL);
    if (names.length !== 1) {
      const problem =
        names.length === 0 ? 'no __name__ label (the metric name)' : '__name__ given more than once';
      rejected.push({ index, error: `${fields.labels}: ${problem}` });
      return 0;
    }
    const labels = series.labels
      .filter((label) => label.name !== METRIC_NAME_LABEL)
      .map((label) => [label.name, label.value] as const);
    const identity = this.validator.identity(names[0].value, labels, fields);
    if (!identity.ok) {
      rejected.push({ index, error: identity.error });
      return 0;
    }
    let skipped = 0;
    series.samples.forEach((sample, position) => {
      if (isStaleMarker(sample)) {
        skipped++;
        return;
      }
      fields.sample = position;
      const t = this.validator.timestamp(sampleTimestamp(sample), fields.t, now);
      const value = t.ok ? this.validator.value(sampleValue(sample), fields.value) : t;
      if (!value.ok) rejected.push({ index, error: value.error });
      else if (t.ok) points.push({ ...identity.value, t: t.value, value: value.value });
    });
    return skipped;
  }
}

const METRIC_NAME_LABEL = '__name__';

/**
 * The uncompressed length a snappy block announces in its first bytes (a varint). The
 * decompressor allocates that much before reading on, so it is checked first: otherwise a
 * 40-byte body could claim gigabytes. 0 when unreadable, leaving the error to the
 * decompressor.
 */
function uncompressedLength(body: Uint8Array): number {
  let length = 0;
  for (let i = 0; i < 5 && i < body.length; i++) {
    length += (body[i] & 0x7f) * 2 ** (7 * i);
    if (body[i] < 0x80) return length;
  }
  return 0;
}

/** An error's message, also for errors made in another realm (a native addon's, a vm context's), which fail `instanceof Error`. */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** Names the fields of series `index` and, once set, of its sample `sample`. */
class RemoteWriteFields implements PointFields {
  sample = 0;

  constructor(private readonly index: number) {}

  get series(): string {
    return `timeseries[${this.index}]`;
  }
  get metric(): string {
    return `${this.series}.labels.__name__`;
  }
  get labels(): string {
    return `${this.series}.labels`;
  }
  get t(): string {
    return `${this.series}.samples[${this.sample}].timestamp`;
  }
  get value(): string {
    return `${this.series}.samples[${this.sample}].value`;
  }
  label(name: string): string {
    return `${this.labels}${memberPath(name)}`;
  }
}
