import fc from 'fast-check';
import { MAX_SCORE_BYTES, writeScore } from './score.formatter';

function format(score: number): string {
  const out = Buffer.alloc(MAX_SCORE_BYTES + 2, '#');
  const end = writeScore(out, 1, score);
  expect(out[0]).toBe(0x23); // nothing written before `at`
  expect(out[end]).toBe(0x23); // nor after the offset returned
  return out.toString('latin1', 1, end);
}

describe('writeScore', () => {
  it.each([
    [0, '0'],
    [-0, '0'],
    [1, '1'],
    [0.5, '0.5'],
    [0.25, '0.25'],
    [0.1, '0.1'],
    [0.123456, '0.123456'],
    [0.1234564, '0.123456'],
    [0.1234566, '0.123457'],
    [0.000001, '0.000001'],
    [0.0000004, '0'],
    [0.9999996, '1'],
    [0.999999, '0.999999'],
    [0.10203, '0.10203'],
  ])('writes %p as %j', (score, text) => {
    expect(format(score)).toBe(text);
  });

  it('writes any score as its nearest six-decimal value, trailing zeros trimmed', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (score) => {
        const text = format(score);
        expect(text).toMatch(/^(0|1|0\.[0-9]{0,5}[1-9])$/);
        expect(Math.abs(Number(text) - score)).toBeLessThanOrEqual(5e-7 + 1e-12);
      }),
    );
  });
});
