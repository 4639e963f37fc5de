import fc from 'fast-check';
import { EPOCH_SECONDS_BELOW, parseTimestamp } from './timestamp';

/** The instants whose ISO form has a four-digit year, 0000-01-01 to 9999-12-31. */
const FIRST_YEAR_0000 = -62_167_219_200_000;
const LAST_YEAR_9999 = 253_402_300_799_999;
const anyInstant = fc.integer({ min: FIRST_YEAR_0000, max: LAST_YEAR_9999 });

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

describe('parseTimestamp', () => {
  it.each([
    ['2014-07-01 00:00:00', Date.UTC(2014, 6, 1)],
    ['2014-07-01 13:45:07', Date.UTC(2014, 6, 1, 13, 45, 7)],
    ['2014-07-01T13:45:07Z', Date.UTC(2014, 6, 1, 13, 45, 7)],
    ['2014-07-01t13:45:07z', Date.UTC(2014, 6, 1, 13, 45, 7)],
    ['2014-07-01T13:45:07.5Z', Date.UTC(2014, 6, 1, 13, 45, 7, 500)],
    ['2014-07-01T13:45:07.25Z', Date.UTC(2014, 6, 1, 13, 45, 7, 250)],
    ['2014-07-01T13:45:07.123Z', Date.UTC(2014, 6, 1, 13, 45, 7, 123)],
    ['2014-07-01T13:45:07.123456Z', Date.UTC(2014, 6, 1, 13, 45, 7, 123) + 0.456],
    ['2014-07-01 13:45:07.123', Date.UTC(2014, 6, 1, 13, 45, 7, 123)],
    ['2014-07-01T15:45:07+02:00', Date.UTC(2014, 6, 1, 13, 45, 7)],
    ['2014-07-01T08:15:07-05:30', Date.UTC(2014, 6, 1, 13, 45, 7)],
    ['2014-07-01T00:30:00+01:00', Date.UTC(2014, 5, 30, 23, 30)],
    ['2014-07-01 13:45', Date.UTC(2014, 6, 1, 13, 45)],
    ['2014-07-01', Date.UTC(2014, 6, 1)],
    ['2016-12-31T23:59:60Z', Date.UTC(2017, 0, 1)],
    ['2016-02-29', Date.UTC(2016, 1, 29)],
    ['2000-02-29', Date.UTC(2000, 1, 29)],
    ['0001-01-01', -62_135_596_800_000],
    ['0099-12-31T00:00:00Z', -59_011_545_600_000],
    ['1404172800', Date.UTC(2014, 6, 1)],
    ['1404172800.5', Date.UTC(2014, 6, 1) + 500],
    ['1404172800123', Date.UTC(2014, 6, 1, 0, 0, 0, 123)],
    ['1404172800123.25', Date.UTC(2014, 6, 1, 0, 0, 0, 123) + 0.25],
    ['+1404172800', Date.UTC(2014, 6, 1)],
    ['-86400', -86_400_000],
    ['0', 0],
    ['60', 60_000],
  ])('reads %j', (text, expected) => {
    expect(parseTimestamp(text)).toBe(expected);
  });

  it.each([
    '',
    ' ',
    'abc',
    'yesterday',
    '2014-07-01 ',
    ' 2014-07-01',
    '2014-07-01 00:00:00 ',
    '2014-7-1',
    '2014-07-1 00:00:00',
    '14-07-01 00:00:00',
    '2014/07/01 00:00:00',
    '2014-07-01_00:00:00',
    '2014-13-01',
    '2014-00-10',
    '2014-07-00',
    '2014-06-31',
    '2015-02-29',
    '1900-02-29',
    '2014-07-01 24:00:00',
    '2014-07-01 00:60:00',
    '2014-07-01 00:00:61',
    '2014-07-01 0:00:00',
    '2014-07-01 00:00:0',
    '2014-07-01 00:00:00.',
    '2014-07-01 00:00:00.x',
    '2014-07-01 00:00:00.123Zx',
    '2014-07-01 00:00:00ZZ',
    '2014-07-01 00:00:00+0100',
    '2014-07-01 00:00:00+01',
    '2014-07-01 00:00:00+24:00',
    '2014-07-01 00:00:00+01:60',
    '2014-07-01 00:00:00 +01:00',
    '２０１４-07-01',
    '1e12',
    '0x10',
    '1,5',
    '1 404 172 800',
    '+',
    '-',
    '.5',
    '5.',
    '1404172800.',
    'Infinity',
    'NaN',
    '9000000000000000',
    '-9000000000000000',
  ])('refuses %j', (text) => {
    expect(parseTimestamp(text)).toBeNaN();
  });

  it('reads any instant printed as RFC 3339 back to itself', () => {
    fc.assert(fc.property(anyInstant, (ms) => parseTimestamp(iso(ms)) === ms));
  });

  it("reads NAB's form, with a space and no zone, as UTC", () => {
    fc.assert(
      fc.property(anyInstant, (ms) => {
        const text = iso(ms).slice(0, 19).replace('T', ' ');
        return parseTimestamp(text) === Math.floor(ms / 1000) * 1000;
      }),
    );
  });

  it('applies any zone offset', () => {
    const offsetMinutes = fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 });
    fc.assert(
      fc.property(anyInstant, offsetMinutes, (ms, offset) => {
        const local = iso(ms + offset * 60_000);
        fc.pre(local.length === 24); // the local clock reading must stay within years 0000-9999
        const abs = Math.abs(offset);
        const zone = `${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
        return parseTimestamp(local.slice(0, 23) + zone) === ms;
      }),
    );
  });

  it('keeps the digits of a long fraction beyond the millisecond', () => {
    fc.assert(
      fc.property(anyInstant, fc.integer({ min: 0, max: 999_999 }), (ms, micros) => {
        const text = `${iso(ms).slice(0, 23)}${String(micros).padStart(6, '0')}Z`;
        return Math.abs(parseTimestamp(text) - (ms + micros / 1e6)) < 1e-3;
      }),
    );
  });

  it('reads integers of 1e11 and above as epoch milliseconds', () => {
    const ms = fc.integer({ min: EPOCH_SECONDS_BELOW, max: 8.64e15 });
    fc.assert(
      fc.property(
        ms,
        fc.boolean(),
        (n, negative) => parseTimestamp(`${negative ? '-' : ''}${n}`) === (negative ? -n : n),
      ),
    );
  });

  it('reads integers below 1e11 as epoch seconds', () => {
    const seconds = fc.integer({ min: -(EPOCH_SECONDS_BELOW - 1), max: EPOCH_SECONDS_BELOW - 1 });
    fc.assert(fc.property(seconds, (s) => parseTimestamp(String(s)) === s * 1000));
  });

  it('returns a finite number or NaN, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        const t = parseTimestamp(text);
        return Number.isNaN(t) || Number.isFinite(t);
      }),
    );
  });
});

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
