import { IngestException, IngestExceptionCode } from './ingest.exception';
import { showString } from './input-text';

/**
 * The unit of Influx line protocol timestamps, from the write endpoint's `precision`
 * query parameter: InfluxDB 2's `ns`, `us`, `ms`, `s`, and InfluxDB 1's spellings `n`,
 * `u`, `m` (minutes) and `h`, since Telegraf's `influxdb` output speaks the 1.x API.
 */
export type InfluxPrecision = 'ns' | 'us' | 'ms' | 's' | 'm' | 'h';

const SPELLINGS: Readonly<Record<string, InfluxPrecision>> = {
  ns: 'ns',
  n: 'ns',
  us: 'us',
  u: 'us',
  ms: 'ms',
  s: 's',
  m: 'm',
  h: 'h',
};

const NANOSECONDS: Readonly<Record<InfluxPrecision, bigint>> = {
  ns: 1n,
  us: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const NS_PER_MS = 1_000_000n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The precision a `precision` query parameter names; absent or empty is InfluxDB's default, `ns`. */
export function parseInfluxPrecision(parameter: string | undefined): InfluxPrecision {
  if (parameter === undefined || parameter === '') return 'ns';
  const precision = Object.hasOwn(SPELLINGS, parameter) ? SPELLINGS[parameter] : undefined;
  if (precision === undefined) {
    throw new IngestException(
      IngestExceptionCode.BAD_PARAMETER,
      `precision: must be one of ns, us, ms, s (or InfluxDB 1.x's n, u, m, h), got ${showString(parameter)}`,
    );
  }
  return precision;
}

/**
 * Epoch milliseconds of a line's timestamp (optionally signed decimal digits) in
 * `precision`, floored to the millisecond; undefined when it is outside the signed 64-bit
 * range line protocol allows. BigInt because nanosecond timestamps exceed 2^53.
 */
export function influxTimestampMs(digits: string, precision: InfluxPrecision): number | undefined {
  const raw = BigInt(digits);
  if (raw < INT64_MIN || raw > INT64_MAX) return undefined;
  const ns = raw * NANOSECONDS[precision];
  let ms = ns / NS_PER_MS;
  // BigInt division truncates toward zero; a timestamp floors, like every other source.
  if (ns < 0n && ms * NS_PER_MS !== ns) ms -= 1n;
  return Number(ms);
}

/** The precisions a timestamp is commonly written in, for suggesting one when a timestamp misses the window. */
export const COMMON_INFLUX_PRECISIONS: readonly InfluxPrecision[] = ['ns', 'us', 'ms', 's'];
