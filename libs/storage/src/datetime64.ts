/**
 * Instants go to ClickHouse as `DateTime64(3, 'UTC')` text, 'YYYY-MM-DD hh:mm:ss.sss'.
 * Not as bare numbers: ClickHouse versions disagree on what one means (JSON input reads
 * 1700000000000 as milliseconds in some, as seconds in newer ones behind a setting, and
 * CSV guesses from the digit count), while this text means one instant everywhere.
 * Reads go the other way through `toUnixTimestamp64Milli`, which is exact.
 */

/** The first and last millisecond DateTime64 can hold. */
export const DATETIME64_MIN_MS = Date.UTC(1900, 0, 1);
export const DATETIME64_MAX_MS = Date.UTC(2299, 11, 31, 23, 59, 59, 999);

const DAY_MS = 86_400_000;

// Formatting is on the write path of every point, and Date#toISOString costs ~1 µs, as
// much as the rest of a row's encoding. Consecutive points almost always share their
// day, so the date part is remembered and only the time of day is built: ~0.1 µs.
let cachedDay = NaN;
let cachedDatePart = '';

/** Epoch milliseconds, in DATETIME64_MIN_MS..DATETIME64_MAX_MS, as DateTime64 text in UTC. */
export function toDateTime64Text(epochMs: number): string {
  const day = Math.floor(epochMs / DAY_MS);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDatePart = new Date(day * DAY_MS).toISOString().slice(0, 10);
  }
  let rest = epochMs - day * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  return `${cachedDatePart} ${two(hours)}:${two(minutes)}:${two(seconds)}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}`;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}
