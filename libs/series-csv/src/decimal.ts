const ZERO = 0x30;
const DOT = 0x2e;
const PLUS = 0x2b;
const MINUS = 0x2d;

/**
 * Exact powers of ten: 10^22 is the largest a double holds exactly, which is what
 * makes the fast path below correctly rounded.
 */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/**
 * The number that `bytes[start..end)` spells, exactly as `Number(text)` reads it:
 * NaN when it is not a number, and `Infinity` for `Infinity` or a decimal too large.
 *
 * Plain decimals with at most 15 significant digits (nearly every value a metric
 * writes) are read from the bytes without building a string: their digits form an
 * integer below 2^53 and the divisor is an exact power of ten, so one IEEE division
 * rounds the quotient correctly and equals what `Number` returns (Clinger's fast
 * path). Everything else goes to `Number`.
 */
export function parseDecimal(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  const sign = bytes[i] === MINUS ? -1 : 1;
  if (bytes[i] === MINUS || bytes[i] === PLUS) i++;
  let mantissa = 0;
  let digits = 0;
  let fractionDigits = -1;
  for (; i < end; i++) {
    const d = bytes[i] - ZERO;
    if (d >= 0 && d <= 9) {
      mantissa = mantissa * 10 + d;
      digits++;
      if (fractionDigits >= 0) fractionDigits++;
    } else if (bytes[i] === DOT && fractionDigits < 0) {
      fractionDigits = 0;
    } else {
      break;
    }
  }
  const plain = i === end && digits > 0 && digits > fractionDigits && fractionDigits !== 0;
  if (plain && digits <= 15) {
    return fractionDigits > 0 ? (sign * mantissa) / POWERS_OF_TEN[fractionDigits] : sign * mantissa;
  }
  return Number(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1'));
}
