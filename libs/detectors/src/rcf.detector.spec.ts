import { type DetectorSnapshot, type StateArray } from './detector';
import { DetectorErrorCode } from './errors';
import { RcfDetector } from './rcf.detector';
import { describeConformance } from './testing/conformance';
import { gaussian, mulberry32 } from './testing/series';

describeConformance({
  kind: 'rcf',
  create: (params) => new RcfDetector(params),
  restore: (snapshot) => RcfDetector.restore(snapshot),
  badParams: [
    { params: { shingleSize: 0 }, names: 'shingleSize' },
    { params: { shingleSize: 2.5 }, names: 'shingleSize' },
    { params: { trees: 0 }, names: 'trees' },
    { params: { sampleSize: 2 }, names: 'sampleSize' },
    { params: { sampleSize: '256' }, names: 'sampleSize' },
    { params: { timeDecay: -0.1 }, names: 'timeDecay' },
    { params: { timeDecay: Number.NaN }, names: 'timeDecay' },
    { params: { grace: 0 }, names: 'grace' },
    { params: { sampleSize: 64, grace: 65 }, names: 'grace' },
    { params: { seed: -1 }, names: 'seed' },
    { params: { seed: 2 ** 32 }, names: 'seed' },
  ],
  // Measured 469,832 bytes with the defaults (30 trees of 256 points, shingles of 8):
  // the shingles, as float32, are half of it; tree structure and sampler the rest.
  maxStateBytes: 470_000,
});

// The edges of the parameter space, where trees churn hardest: a sample that is nearly
// a sliding window (every point evicts one), and a uniform sample of single values.
for (const [name, edge, bytes] of [
  ['a sliding window of 16 pairs', { shingleSize: 2, timeDecay: 1, sampleSize: 16, trees: 3 }, 2784],
  ['a uniform sample of 16 single values', { shingleSize: 1, timeDecay: 0, sampleSize: 16, trees: 3 }, 2584],
] as const) {
  describe(`over ${name}`, () => {
    describeConformance({
      kind: 'rcf',
      create: (params) => new RcfDetector({ ...edge, ...params }),
      restore: (snapshot) => RcfDetector.restore(snapshot),
      badParams: [],
      maxStateBytes: bytes,
    });
  });
}

/** A sine of amplitude 10 with unit gaussian noise. */
function noisySine(length: number, period: number, seed: number): number[] {
  const rand = mulberry32(seed);
  return Array.from({ length }, (_, i) => 10 * Math.sin((2 * Math.PI * i) / period) + gaussian(rand));
}

function stepAll(detector: RcfDetector, values: number[], from = 0): number[] {
  return values.map((v, i) => detector.step(v, from + i));
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

describe('RcfDetector', () => {
  it('scores a clear spike in a noisy sine far above every ordinary point', () => {
    const d = new RcfDetector();
    const ordinary = stepAll(d, noisySine(3000, 50, 1)).slice(1000);
    expect(mean(ordinary)).toBeLessThan(0.55);
    // The sine is at 0 at t = 3000: spikes of two and three amplitudes either way.
    for (const spike of [30, 20, -20, -30]) {
      const s = d.score(spike, 3000);
      expect(s).toBeGreaterThan(0.98);
      expect(s).toBeGreaterThan(Math.max(...ordinary));
    }
  });

  it('detects a change of shape that no single value gives away: the period halving', () => {
    const d = new RcfDetector();
    const before = stepAll(d, noisySine(3000, 50, 2)).slice(1000);
    const after = stepAll(d, noisySine(100, 25, 3), 3000);
    // Every value after the change is in the range seen before; only the shingles are new.
    expect(mean(after)).toBeGreaterThan(mean(before) + 0.15);
  });

  it('gives the same scores for the same seed and different ones for another', () => {
    const values = noisySine(1500, 50, 4);
    const a = stepAll(new RcfDetector({ seed: 7 }), values);
    const b = stepAll(new RcfDetector({ seed: 7 }), values);
    const c = stepAll(new RcfDetector({ seed: 8 }), values);
    expect(b).toEqual(a);
    const differing = a.filter((s, i) => s !== c[i]).length;
    expect(differing).toBeGreaterThan(1000);
  });

  it('scores a series the same whatever its unit and offset', () => {
    const values = noisySine(1500, 50, 5);
    const plain = stepAll(new RcfDetector(), values);
    for (const unit of [(v: number) => v * 1e-6, (v: number) => v * 3.7e9 + 2e10]) {
      const rescaled = stepAll(new RcfDetector(), values.map(unit));
      const worst = Math.max(...rescaled.map((s, i) => Math.abs(s - plain[i])));
      expect(worst).toBeLessThan(0.01);
    }
  });

  it('stays silent until every tree holds `grace` points', () => {
    const params = { shingleSize: 4, sampleSize: 32, grace: 20 };
    const d = new RcfDetector(params);
    const values = noisySine(200, 50, 6);
    // The normaliser takes 10 values alone, then 3 more fill the first shingle.
    const first = 10 + 3 + 20;
    const scores = stepAll(d, values);
    expect(scores.slice(0, first)).toEqual(new Array(first).fill(0));
    expect(scores.slice(first).every((s) => s > 0)).toBe(true);
  });

  it('gives a point equal to a held one a low score, and the first new value after a flat run a high one', () => {
    const d = new RcfDetector({ sampleSize: 64 });
    for (let i = 0; i < 500; i++) d.learn(5, i);
    expect(d.score(5, 500)).toBe(0);
    expect(d.score(6, 500)).toBeGreaterThan(0.99);
  });

  describe('restore', () => {
    const trained = (): DetectorSnapshot => {
      const d = new RcfDetector({ trees: 4, sampleSize: 32 });
      stepAll(d, noisySine(400, 50, 9));
      return d.snapshot();
    };
    /** The trained snapshot with one state array changed. */
    const tampered = (
      name: string,
      change: (array: StateArray, state: DetectorSnapshot['state']) => void,
    ) => {
      const s = trained();
      const array = s.state[name].slice();
      change(array, s.state);
      return { ...s, state: { ...s.state, [name]: array } };
    };
    const corrupt = expect.objectContaining({ code: DetectorErrorCode.CORRUPT_SNAPSHOT });

    it('takes an untouched snapshot, which continues as the original', () => {
      const original = new RcfDetector({ trees: 4, sampleSize: 32 });
      stepAll(original, noisySine(400, 50, 9));
      const restored = RcfDetector.restore(trained());
      const next = noisySine(200, 50, 10);
      expect(stepAll(restored, next, 400)).toEqual(stepAll(original, next, 400));
    });

    it('refuses a tree that loops back on itself', () => {
      const s = tampered('left', (left, state) => {
        const root = state.roots[0];
        left[root] = root;
      });
      expect(() => RcfDetector.restore(s)).toThrow(corrupt);
    });

    it('refuses a cut that does not separate its children', () => {
      expect(() => RcfDetector.restore(tampered('cutValue', (cuts) => (cuts[0] = 1e30)))).toThrow(corrupt);
    });

    it('refuses a sampler naming a point outside the store', () => {
      expect(() => RcfDetector.restore(tampered('entries', (e) => (e[3] = 1e6)))).toThrow(corrupt);
    });

    it('refuses a sampler that is not a heap', () => {
      expect(() => RcfDetector.restore(tampered('priorities', (p) => (p[0] = -Infinity)))).toThrow(corrupt);
    });

    it('refuses a tree holding a point its sampler does not', () => {
      // Tree 0's sampler now names its second point twice and its first not at all.
      expect(() => RcfDetector.restore(tampered('entries', (e) => (e[0] = e[1])))).toThrow(corrupt);
    });

    it('refuses a normaliser it could not have reached', () => {
      expect(() => RcfDetector.restore(tampered('s', (s) => (s[2] = Number.NaN)))).toThrow(corrupt);
      expect(() => RcfDetector.restore(tampered('recent', (r) => (r[0] = 1e9)))).toThrow(corrupt);
    });

    it('refuses arrays of the wrong length for its parameters', () => {
      const s = trained();
      expect(() => RcfDetector.restore({ ...s, params: { ...s.params, trees: 5 } })).toThrow(corrupt);
    });
  });
});
