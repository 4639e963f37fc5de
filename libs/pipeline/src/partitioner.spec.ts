import fc from 'fast-check';
import { fnv1a, partitionOf } from './partitioner';

/** FNV-1a over the bytes TextEncoder gives: what fnv1a computes without the buffer. */
function fnv1aOfBytes(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

describe('partitionOf', () => {
  it('is FNV-1a: stable across processes and versions', () => {
    // Reference values of 32-bit FNV-1a.
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });

  it('hashes the UTF-8 bytes TextEncoder makes, for any text, unpaired surrogates included', () => {
    for (const text of ['é', '☃', '𝄞', '\ud800', '\udc00x', 'a\ud83d', '\ud83d\ude00\ud83d']) {
      expect(fnv1a(text)).toBe(fnv1aOfBytes(text));
    }
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          // Any UTF-16 code units, halves of pairs on their own among them.
          fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
        ),
        (text) => fnv1a(text) === fnv1aOfBytes(text),
      ),
      { numRuns: 2000 },
    );
  });

  it('puts every point of a series on one partition and spreads series evenly', () => {
    const counts = new Array(12).fill(0);
    for (let i = 0; i < 12_000; i++) counts[partitionOf('acme', `cpu{host="h${i}"}`, 12)]++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
    expect(partitionOf('acme', 'cpu', 12)).toBe(partitionOf('acme', 'cpu', 12));
    expect(() => partitionOf('acme', 'cpu', 0)).toThrow(/partitions/);
  });
});
