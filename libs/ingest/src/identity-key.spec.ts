import fc from 'fast-check';
import { rawIdentityKey } from './identity-key';

describe('rawIdentityKey', () => {
  it('tells apart inputs that concatenate alike', () => {
    const keys = [
      rawIdentityKey('ab', undefined),
      rawIdentityKey('a', { b: '' }),
      rawIdentityKey('a', { '': 'b' }),
      rawIdentityKey('a1:b', undefined),
      rawIdentityKey('a', { x: 'y', z: 'w' }),
      rawIdentityKey('a', { x: 'y1:z1:w' }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('gives two inputs one key only when they are the same metric and labels in the same order', () => {
    const input = fc.tuple(fc.string(), fc.array(fc.tuple(fc.string(), fc.string()), { maxLength: 4 }));
    fc.assert(
      fc.property(input, input, ([m1, l1], [m2, l2]) => {
        const labels1 = Object.fromEntries(l1);
        const labels2 = Object.fromEntries(l2);
        const same =
          m1 === m2 && JSON.stringify(Object.entries(labels1)) === JSON.stringify(Object.entries(labels2));
        return (rawIdentityKey(m1, labels1) === rawIdentityKey(m2, labels2)) === same;
      }),
      { numRuns: 5000 },
    );
  });
});
