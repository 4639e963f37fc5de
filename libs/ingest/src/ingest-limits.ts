import { z } from 'zod';

/**
 * Every limit ingest enforces, in one object. Lengths count Unicode code points (what a
 * person reading the error counts), except the byte sizes.
 */
export interface IngestLimits {
  /** Request body as received, before any decompression: over it, 413. */
  readonly maxBodyBytes: number;
  /** A remote_write body once snappy-decompressed: checked from the snappy header before inflating. */
  readonly maxDecompressedBytes: number;
  /** Points (JSON), lines (Influx) or samples (remote_write) in one request: over it, 413. */
  readonly maxPointsPerRequest: number;
  readonly maxMetricNameLength: number;
  /** Labels of one series, counted after empty-valued labels are dropped. */
  readonly maxLabels: number;
  readonly maxLabelNameLength: number;
  readonly maxLabelValueLength: number;
  /** The whole canonical series key: it is stored with every point and keys per-series state. */
  readonly maxSeriesKeyLength: number;
  /** How far before `now` a timestamp may be: late data older than this is refused, not back-filled. */
  readonly maxPastMs: number;
  /** How far after `now` a timestamp may be: room for clock skew, not for the future. */
  readonly maxFutureMs: number;
}

const MIB = 1024 * 1024;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/**
 * Sizes follow what senders produce: Prometheus sends a few thousand samples per request
 * and Telegraf a few thousand lines, far below these. Label limits are Grafana Mimir's
 * count (30) with shorter names and values than its defaults, because a series key is
 * repeated in every stored point.
 */
export const DEFAULT_INGEST_LIMITS: IngestLimits = Object.freeze({
  maxBodyBytes: 8 * MIB,
  maxDecompressedBytes: 32 * MIB,
  maxPointsPerRequest: 100_000,
  maxMetricNameLength: 256,
  maxLabels: 30,
  maxLabelNameLength: 128,
  maxLabelValueLength: 1024,
  maxSeriesKeyLength: 4096,
  maxPastMs: 7 * DAY_MS,
  maxFutureMs: 10 * MINUTE_MS,
});

const count = z
  .number({ error: 'must be a positive integer' })
  .refine((n) => Number.isSafeInteger(n) && n > 0, 'must be a positive integer');
const duration = z
  .number({ error: 'must be a whole number of milliseconds, 0 or more' })
  .refine((n) => Number.isSafeInteger(n) && n >= 0, 'must be a whole number of milliseconds, 0 or more');

const schema = z.strictObject({
  maxBodyBytes: count,
  maxDecompressedBytes: count,
  maxPointsPerRequest: count,
  maxMetricNameLength: count,
  maxLabels: count,
  maxLabelNameLength: count,
  maxLabelValueLength: count,
  maxSeriesKeyLength: count,
  maxPastMs: duration,
  maxFutureMs: duration,
}) satisfies z.ZodType<IngestLimits>;

/**
 * The defaults with `overrides` applied, checked once: a wrong limit is a configuration
 * error, reported with the limit's name when the decoders are built, not on a request.
 */
export function ingestLimits(overrides: Partial<IngestLimits> = {}): IngestLimits {
  const parsed = schema.safeParse({ ...DEFAULT_INGEST_LIMITS, ...overrides });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown limit ${issue.keys.join(', ')}`
        : `${issue.path.join('.')}: ${issue.message}`,
    );
    throw new Error(`invalid ingest limits: ${problems.join('; ')}`);
  }
  return Object.freeze(parsed.data);
}
