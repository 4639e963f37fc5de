import fc from 'fast-check';
import { DATETIME64_MAX_MS, DATETIME64_MIN_MS, toDateTime64Text } from './datetime64';

describe('toDateTime64Text', () => {
  it.each([
    [0, '1970-01-01 00:00:00.000'],
    [Date.UTC(2031, 0, 2, 3, 4, 5, 6), '2031-01-02 03:04:05.006'],
    [Date.UTC(2031, 0, 2, 13, 14, 15, 160), '2031-01-02 13:14:15.160'],
    [-1, '1969-12-31 23:59:59.999'],
    [DATETIME64_MIN_MS, '1900-01-01 00:00:00.000'],
    [DATETIME64_MAX_MS, '2299-12-31 23:59:59.999'],
  ])('writes %d as %s', (ms, text) => {
    expect(toDateTime64Text(ms)).toBe(text);
  });

  it('agrees with Date#toISOString over the whole range, whatever the order of calls', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: DATETIME64_MIN_MS, max: DATETIME64_MAX_MS }), { maxLength: 20 }),
        (instants) => {
          for (const ms of instants) {
            const iso = new Date(ms).toISOString();
            expect(toDateTime64Text(ms)).toBe(`${iso.slice(0, 10)} ${iso.slice(11, 23)}`);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
