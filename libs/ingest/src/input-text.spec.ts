import { memberPath, showInput, showString } from './input-text';

describe('showString', () => {
  it('quotes and escapes like JSON', () => {
    expect(showString('a "b"\n\\')).toBe('"a \\"b\\"\\n\\\\"');
  });

  it('escapes what JSON leaves raw but terminals act on', () => {
    expect(showString('a\u007fb\u0085c\u2028d')).toBe('"a\\u007fb\\u0085c\\u2028d"');
  });

  it('cuts long text', () => {
    expect(showString('x'.repeat(1000))).toBe(`"${'x'.repeat(64)}…"`);
  });
});

describe('showInput', () => {
  it.each([
    ['NaN', '"NaN"'],
    [1.5, '1.5'],
    [Infinity, 'Infinity'],
    [true, 'true'],
    [null, 'null'],
    [undefined, 'nothing'],
    [[1], 'an array'],
    [{ a: 1 }, 'an object'],
  ])('shows %j as %s', (input, shown) => {
    expect(showInput(input)).toBe(shown);
  });
});

describe('memberPath', () => {
  it.each([
    ['host', '.host'],
    ['_a$1', '._a$1'],
    ['k8s.pod', '["k8s.pod"]'],
    ['1a', '["1a"]'],
    ['', '[""]'],
    ['a\nb', '["a\\nb"]'],
  ])('writes %j as %s', (name, path) => {
    expect(memberPath(name)).toBe(path);
  });
});
