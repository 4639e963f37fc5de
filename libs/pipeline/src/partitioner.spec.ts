import { fnv1a, partitionOf } from './partitioner';

describe('partitionOf', () => {
  it('is FNV-1a: stable across processes and versions', () => {
    // Reference values of 32-bit FNV-1a.
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });

  it('puts every point of a series on one partition and spreads series evenly', () => {
    const counts = new Array(12).fill(0);
    for (let i = 0; i < 12_000; i++) counts[partitionOf('acme', `cpu{host="h${i}"}`, 12)]++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
    expect(partitionOf('acme', 'cpu', 12)).toBe(partitionOf('acme', 'cpu', 12));
    expect(() => partitionOf('acme', 'cpu', 0)).toThrow(/partitions/);
  });
});
