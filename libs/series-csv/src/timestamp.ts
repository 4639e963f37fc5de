/**
 * Timestamps as series CSVs write them, read to epoch milliseconds (UTC).
 *
 * Calendar form: `YYYY-MM-DD`, optionally followed by `T`, `t` or a space and
 * `HH:MM[:SS[.fraction]]`, optionally followed by `Z`, `z` or `±HH:MM`. This covers
 * NAB's `2014-07-01 00:00:00` and every RFC 3339 timestamp. Without a zone the time is
 * UTC (NAB's convention); without a time it is midnight. A fraction of any length is
 * kept below the millisecond. Second 60 (a leap second) is the next second's instant,
 * as in POSIX time.
 *
 * Epoch form: a plain decimal number (`1404172800`, `1404172800000`, `-86400.5`),
 * read as seconds when its magnitude is below 1e11 and as milliseconds otherwise.
 * The two scales cannot be told apart by syntax, and the cut is where neither is
 * plausible: 1e11 seconds is the year 5138, 1e11 milliseconds is 1973-03-03.
 */
export const TIMESTAMP_FORMATS =
  'YYYY-MM-DD[ HH:MM[:SS]] (UTC), RFC 3339, or epoch seconds or milliseconds (below 1e11: seconds)';

/** Magnitude below which an epoch number is seconds; see above. */
export const EPOCH_SECONDS_BELOW = 1e11;

/** The instants a JavaScript `Date` can hold; beyond them a timestamp is an error, not a guess. */
const MAX_EPOCH_MS = 8.64e15;

const MS_PER_DAY = 86_400_000;
const ZERO = 0x30;
const DASH = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const COLON = 0x3a;
const SPACE = 0x20;
const UPPER_T = 0x54;
const LOWER_T = 0x74;
const UPPER_Z = 0x5a;
const LOWER_Z = 0x7a;

/**
 * Epoch milliseconds of `text`, or NaN when it is not a timestamp in a format above.
 * Read by character code, as this runs once per row: a character beyond ASCII is
 * never a digit or a separator.
 */
export function parseTimestamp(text: string): number {
  const end = text.length;
  // Only the calendar form has a dash at offset 4; an epoch number never does.
  return end >= 10 && text.charCodeAt(4) === DASH ? parseCalendar(text, 0, end) : parseEpoch(text, 0, end);
}

function parseCalendar(s: string, start: number, end: number): number {
  const year = digits(s, start, 4, end);
  const month = digits(s, start + 5, 2, end);
  const day = digits(s, start + 8, 2, end);
  if (!(year >= 0) || s.charCodeAt(start + 7) !== DASH || !(month >= 1 && month <= 12)) return NaN;
  if (!(day >= 1 && day <= daysInMonth(year, month))) return NaN;
  const midnight = daysFromCivil(year, month, day) * MS_PER_DAY;
  if (end - start === 10) return midnight;

  const sep = s.charCodeAt(start + 10);
  if (sep !== SPACE && sep !== UPPER_T && sep !== LOWER_T) return NaN;
  const hour = digits(s, start + 11, 2, end);
  const minute = digits(s, start + 14, 2, end);
  if (s.charCodeAt(start + 13) !== COLON || !(hour >= 0 && hour <= 23) || !(minute >= 0 && minute <= 59))
    return NaN;
  let i = start + 16;
  let second = 0;
  let fraction = 0;
  if (i < end && s.charCodeAt(i) === COLON) {
    second = digits(s, i + 1, 2, end);
    if (!(second >= 0 && second <= 60)) return NaN;
    i += 3;
    if (i < end && s.charCodeAt(i) === DOT) {
      const stop = digitRunEnd(s, i + 1, end);
      if (stop === i + 1) return NaN;
      fraction = fractionMs(s, i + 1, stop);
      i = stop;
    }
  }
  const offset = zoneOffsetMinutes(s, i, end);
  if (Number.isNaN(offset)) return NaN;
  return midnight + hour * 3_600_000 + (minute - offset) * 60_000 + second * 1000 + fraction;
}

/** Minutes east of UTC of the zone designator at `i` (none: UTC), or NaN. */
function zoneOffsetMinutes(s: string, i: number, end: number): number {
  if (i === end) return 0;
  const c = s.charCodeAt(i);
  if ((c === UPPER_Z || c === LOWER_Z) && i + 1 === end) return 0;
  if ((c !== PLUS && c !== DASH) || i + 6 !== end || s.charCodeAt(i + 3) !== COLON) return NaN;
  const hours = digits(s, i + 1, 2, end);
  const minutes = digits(s, i + 4, 2, end);
  if (!(hours >= 0 && hours <= 23) || !(minutes >= 0 && minutes <= 59)) return NaN;
  const offset = hours * 60 + minutes;
  return c === DASH ? -offset : offset;
}

function parseEpoch(s: string, start: number, end: number): number {
  // Only [+-]digits[.digits]: no blanks, exponents or hex, which `Number` would take.
  const negative = s.charCodeAt(start) === DASH;
  let i = negative || s.charCodeAt(start) === PLUS ? start + 1 : start;
  const integerStart = i;
  let integer = 0;
  for (; i < end && isDigit(s.charCodeAt(i)); i++) integer = integer * 10 + (s.charCodeAt(i) - ZERO);
  if (i === integerStart) return NaN;
  let ms: number;
  if (i === end) {
    ms = integer < EPOCH_SECONDS_BELOW ? integer * 1000 : integer;
  } else {
    const stop = digitRunEnd(s, i + 1, end);
    if (s.charCodeAt(i) !== DOT || stop === i + 1 || stop !== end) return NaN;
    const fraction = fractionMs(s, i + 1, stop);
    ms = integer < EPOCH_SECONDS_BELOW ? integer * 1000 + fraction : integer + fraction / 1000;
  }
  if (negative) ms = -ms;
  return Math.abs(ms) <= MAX_EPOCH_MS ? ms : NaN;
}

/** Where the run of digits starting at `at` ends. */
function digitRunEnd(s: string, at: number, end: number): number {
  let i = at;
  while (i < end && isDigit(s.charCodeAt(i))) i++;
  return i;
}

/**
 * The decimal fraction of a second whose digits are `s[from..to)`, in milliseconds: the
 * first three digits exact, the rest to the precision a double has left.
 */
function fractionMs(s: string, from: number, to: number): number {
  let whole = 0;
  for (let i = from; i < from + 3; i++) whole = whole * 10 + (i < to ? s.charCodeAt(i) - ZERO : 0);
  let rest = 0;
  let scale = 1;
  for (let i = from + 3; i < to && scale < 1e15; i++) {
    rest = rest * 10 + (s.charCodeAt(i) - ZERO);
    scale *= 10;
  }
  return whole + rest / scale;
}

/** The `count`-digit decimal at `at`, or NaN if any of those characters is not a digit. */
function digits(s: string, at: number, count: number, end: number): number {
  if (at + count > end) return NaN;
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - ZERO;
    if (!(d >= 0 && d <= 9)) return NaN;
    value = value * 10 + d;
  }
  return value;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= ZERO + 9;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
 * `Date.UTC` would do, but it maps years 0-99 to 1900-1999 and costs more per row.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}
