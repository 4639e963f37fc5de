import fc from 'fast-check';
import { parseDecimal } from './decimal';

function parse(text: string): number {
  const bytes = Buffer.from(text, 'latin1');
  return parseDecimal(bytes, 0, bytes.length);
}

/** Decimals as metrics write them: the shapes the fast path takes, and some just past it. */
const plainDecimal = fc
  .tuple(
    fc.constantFrom('', '-', '+'),
    fc.stringMatching(/^[0-9]{1,18}$/),
    fc.option(fc.stringMatching(/^[0-9]{1,18}$/), { nil: undefined }),
  )
  .map(([sign, integer, fraction]) => `${sign}${integer}${fraction === undefined ? '' : `.${fraction}`}`);

describe('parseDecimal', () => {
  it.each([
    '0',
    '-0',
    '+7',
    '12.5',
    '-0.001',
    '3.14159265358979',
    '0.1',
    '123456789012345',
    '1e3',
    '-2.5E-7',
    ' 4 ',
    '.5',
    '5.',
    '0x1f',
    'Infinity',
    '-Infinity',
    '1e999',
    '',
    '+',
    '-',
    '.',
    'abc',
    '1.2.3',
    '--1',
    'NaN',
  ])('reads %j exactly as Number() does', (text) => {
    expect(parse(text)).toBe(Number(text));
  });

  it('reads any plain decimal exactly as Number() does', () => {
    fc.assert(fc.property(plainDecimal, (text) => Object.is(parse(text), Number(text))));
  });

  it('reads any double printed by JavaScript back to itself', () => {
    const printable = fc.double({ noNaN: true }).filter((value) => !Object.is(value, -0)); // String(-0) is '0'
    fc.assert(fc.property(printable, (value) => Object.is(parse(String(value)), value)));
  });

  it('agrees with Number() on any ASCII text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 24 }), (text) => Object.is(parse(text), Number(text))));
  });

  it('reads a field in place, between its neighbours', () => {
    const bytes = Buffer.from('ab,-12.75,cd');
    expect(parseDecimal(bytes, 3, 9)).toBe(-12.75);
  });
});
