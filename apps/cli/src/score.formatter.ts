/** The longest text `writeScore` writes: `0.123456`. */
export const MAX_SCORE_BYTES = 8;

const ZERO = 0x30;
const ONE = 0x31;
const DOT = 0x2e;

/**
 * Writes `score`, a number in [0, 1], into `out` at `at` with at most six decimals and
 * no trailing zeros (`0`, `0.5`, `0.000123`, `1`); returns the offset after it.
 * Written digit by digit because it runs once per row, where `toFixed` and trimming
 * would build two strings each time.
 */
export function writeScore(out: Uint8Array, at: number, score: number): number {
  // Held as an int32 (a score is at most 1e6 micros) so the digit arithmetic below
  // stays in integer instructions instead of floating-point remainders.
  let micros = Math.round(score * 1e6) | 0;
  if (micros <= 0) {
    out[at] = ZERO;
    return at + 1;
  }
  if (micros >= 1e6) {
    out[at] = ONE;
    return at + 1;
  }
  let digits = 6;
  while (micros % 10 === 0) {
    micros = (micros / 10) | 0;
    digits--;
  }
  out[at] = ZERO;
  out[at + 1] = DOT;
  const end = at + 2 + digits;
  for (let i = end - 1; i >= at + 2; i--) {
    const rest = (micros / 10) | 0;
    out[i] = ZERO + micros - rest * 10;
    micros = rest;
  }
  return end;
}
