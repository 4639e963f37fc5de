import fc from 'fast-check';
import { globMatch, isGlob } from './glob';

describe('globMatch', () => {
  it.each([
    ['http_*', 'http_requests_total', true],
    ['http_*', 'grpc_requests_total', false],
    ['*_total', 'http_requests_total', true],
    ['*', '', true],
    ['', '', true],
    ['', 'a', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
    ['web-*', 'web-1', true],
    ['web-*', 'api-1', false],
    ['\\*', '*', true],
    ['\\*', 'a', false],
    ['?', '🔥', true],
    ['a**b', 'ab', true],
    ['/var/*', '/var/log/syslog', true],
  ])('%j on %j: %s', (pattern, text, expected) => {
    expect(globMatch(pattern, text)).toBe(expected);
  });

  it('matches a text without wildcards exactly, and any text against its own escaped form', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const escaped = a.replace(/[\\*?]/g, (c) => `\\${c}`);
        expect(globMatch(escaped, a)).toBe(true);
        expect(globMatch(escaped, b)).toBe(a === b);
      }),
    );
  });

  it('matches any text with a pattern made of parts of it joined by stars', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'c') }), { minLength: 1 }),
        (parts) => {
          const text = parts.join('x');
          const pattern = parts.map((part) => part).join('*');
          expect(globMatch(pattern, text)).toBe(true);
        },
      ),
    );
  });

  it('stays quick on a pattern built to make a backtracking matcher blow up', () => {
    const pattern = `${'a*'.repeat(30)}b`;
    const text = 'a'.repeat(5000);
    expect(globMatch(pattern, text)).toBe(false);
  });

  it('tells a glob from plain text', () => {
    expect(isGlob('web-*')).toBe(true);
    expect(isGlob('a?')).toBe(true);
    expect(isGlob('plain\\*')).toBe(false);
    expect(isGlob('plain')).toBe(false);
  });
});
