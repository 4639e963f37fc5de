import { CusumDetector } from './cusum.detector';
import { type Detector } from './detector';
import { DetectorErrorCode } from './errors';
import { describeConformance } from './testing/conformance';
import { gaussian, mulberry32 } from './testing/series';

describeConformance({
  kind: 'cusum',
  create: (params) => new CusumDetector(params),
  restore: (snapshot) => CusumDetector.restore(snapshot),
  badParams: [
    { params: { k: 0 }, names: 'k' },
    { params: { k: 3 }, names: 'k' },
    { params: { h: 0.5 }, names: 'h' },
    { params: { h: Number.POSITIVE_INFINITY }, names: 'h' },
    { params: { varianceRatio: 1 }, names: 'varianceRatio' },
    { params: { halfLife: 0 }, names: 'halfLife' },
    { params: { spreadHalfLife: -1 }, names: 'spreadHalfLife' },
    { params: { grace: 1 }, names: 'grace' },
    { params: { grace: 10.5 }, names: 'grace' },
  ],
  maxStateBytes: 256,
});

const CHANGE = 2000;

/** A series whose `i`-th point `shape` builds from `i` and a standard Gaussian draw (seeded). */
function series(length: number, seed: number, shape: (i: number, noise: number) => number): number[] {
  const rand = mulberry32(seed);
  return Array.from({ length }, (_, i) => shape(i, gaussian(rand)));
}

function scores(values: readonly number[], params = {}): number[] {
  const d: Detector = new CusumDetector(params);
  return values.map((v, i) => d.step(v, i));
}

/** Indices of the points that completed an alarm. */
function alarms(all: readonly number[]): number[] {
  return all.flatMap((s, i) => (s >= 1 ? [i] : []));
}

const SEEDS = [1, 2, 3, 4, 5];

describe('CusumDetector', () => {
  it.each([6, -6])('flags a three-sigma level shift (%d) within 20 points, once, then settles', (shift) => {
    for (const seed of SEEDS) {
      const all = scores(series(CHANGE + 1000, seed, (i, z) => 50 + 2 * z + (i >= CHANGE ? shift : 0)));
      const found = alarms(all);
      expect(found).toHaveLength(1);
      expect(found[0] - CHANGE).toBeGreaterThanOrEqual(0);
      expect(found[0] - CHANGE).toBeLessThan(20);
      // The baseline restarted at the new level: what follows is ordinary noise again.
      const after = all.slice(found[0] + 1);
      expect(after.filter((s) => s >= 0.5).length / after.length).toBeLessThan(0.01);
    }
  });

  it('flags a shift of a hundred sigma just as fast, and only once', () => {
    for (const seed of SEEDS) {
      const found = alarms(
        scores(series(CHANGE + 1000, seed, (i, z) => 50 + 2 * z + (i >= CHANGE ? 200 : 0))),
      );
      expect(found).toHaveLength(1);
      expect(found[0] - CHANGE).toBeGreaterThanOrEqual(0);
      expect(found[0] - CHANGE).toBeLessThan(10);
    }
  });

  it('re-arms after an alarm: a second shift is a second alarm', () => {
    const all = scores(
      series(CHANGE + 1000, 3, (i, z) => 50 + 2 * z + (i >= CHANGE ? 6 : 0) + (i >= CHANGE + 300 ? 6 : 0)),
    );
    const found = alarms(all);
    expect(found).toHaveLength(2);
    expect(found[0] - CHANGE).toBeLessThan(20);
    expect(found[1] - (CHANGE + 300)).toBeGreaterThanOrEqual(0);
    expect(found[1] - (CHANGE + 300)).toBeLessThan(20);
  });

  it.each([
    ['doubles', Math.SQRT2],
    ['halves', Math.SQRT1_2],
  ])('flags the variance when it %s, within 400 points, once', (_, factor) => {
    for (const seed of SEEDS) {
      const all = scores(series(CHANGE + 1500, seed, (i, z) => 50 + 2 * z * (i >= CHANGE ? factor : 1)));
      const found = alarms(all);
      expect(found).toHaveLength(1);
      expect(found[0] - CHANGE).toBeGreaterThanOrEqual(0);
      expect(found[0] - CHANGE).toBeLessThan(400);
    }
  });

  it('flags a stuck sensor once, and not again while it stays stuck', () => {
    for (const seed of SEEDS) {
      const found = alarms(scores(series(CHANGE + 2000, seed, (i, z) => (i >= CHANGE ? 50 : 50 + 2 * z))));
      expect(found).toHaveLength(1);
      expect(found[0] - CHANGE).toBeLessThan(80);
    }
  });

  it('flags noise starting on a flat series within 20 points', () => {
    for (const seed of SEEDS) {
      const found = alarms(scores(series(CHANGE + 500, seed, (i, z) => (i >= CHANGE ? 50 + 2 * z : 50))));
      expect(found[0] - CHANGE).toBeGreaterThanOrEqual(0);
      expect(found[0] - CHANGE).toBeLessThan(20);
    }
  });

  it('stays low on stationary Gaussian noise: under 0.5 on 99.9% of 100k points, no alarm', () => {
    for (const seed of [11, 12]) {
      const all = scores(series(100_000, seed, (_, z) => 50 + 2 * z));
      expect(all.filter((s) => s >= 0.5).length).toBeLessThan(100);
      expect(alarms(all)).toEqual([]);
    }
  });

  it('does not mistake slow autocorrelated wander for a change of level', () => {
    let x = 0;
    const ar = series(100_000, 13, (_, z) => (x = 0.9 * x + z) + 50);
    const all = scores(ar);
    expect(alarms(all).length).toBeLessThan(5);
    expect(all.filter((s) => s >= 0.5).length).toBeLessThan(2_000);
  });

  it('leaves isolated spikes, however large, to the spike detectors', () => {
    for (const seed of SEEDS) {
      const all = scores(series(CHANGE + 2000, seed, (i, z) => 50 + 2 * z + (i % 500 === 250 ? 200 : 0)));
      expect(Math.max(...all.slice(CHANGE))).toBeLessThan(0.5);
    }
  });

  it('gives the same scores to a series whatever its unit and offset', () => {
    const values = series(
      CHANGE + 1000,
      17,
      (i, z) => 50 + 2 * z * (i >= CHANGE ? 2 : 1) + (i >= CHANGE + 500 ? 9 : 0),
    );
    const expected = scores(values);
    expect(alarms(expected).length).toBeGreaterThan(0);
    for (const transform of [(v: number) => v * 1e-6, (v: number) => v * 1e4 + 2e5]) {
      const actual = scores(values.map(transform));
      actual.forEach((s, i) => expect(s).toBeCloseTo(expected[i], 9));
    }
  });

  it('stays silent during its grace period, then scores', () => {
    const values = series(200, 2, (i, z) => 50 + 2 * z + (i >= 40 ? 100 : 0));
    const all = scores(values, { grace: 40 });
    expect(all.slice(0, 40).every((s) => s === 0)).toBe(true);
    expect(all[40]).toBeGreaterThan(0);
  });

  it('alarms sooner with a lower threshold', () => {
    const values = series(CHANGE + 500, 4, (i, z) => 50 + 2 * z + (i >= CHANGE ? 4 : 0));
    const [strict] = alarms(scores(values));
    const [eager] = alarms(scores(values, { h: 8 }));
    expect(eager).toBeLessThan(strict);
  });

  it('refuses a snapshot holding a non-finite number', () => {
    const snapshot = new CusumDetector().snapshot();
    const state = snapshot.state.s.slice();
    state[3] = Number.NaN;
    expect(() => CusumDetector.restore({ ...snapshot, state: { s: state } })).toThrow(
      expect.objectContaining({ code: DetectorErrorCode.CORRUPT_SNAPSHOT }),
    );
  });
});
