import { type Detector } from './detector';
import { deviationScore } from './stats/deviation';
import { describeConformance } from './testing/conformance';
import { gaussian, mulberry32 } from './testing/series';
import { WindowedZScoreDetector } from './windowed-zscore.detector';

describeConformance({
  kind: 'windowed-zscore',
  create: (params) => new WindowedZScoreDetector(params),
  restore: (snapshot) => WindowedZScoreDetector.restore(snapshot),
  badParams: [
    { params: { window: 1 }, names: 'window' },
    { params: { window: 4097 }, names: 'window' },
    { params: { window: 64.5 }, names: 'window' },
    { params: { window: '128' }, names: 'window' },
    { params: { grace: 1 }, names: 'grace' },
    { params: { window: 16, grace: 17 }, names: 'grace' },
  ],
  // The default window is 128 float64s, 1 KiB; the rest is the header and five scalars.
  maxStateBytes: 1200,
});

/** The score of `value` computed from scratch over the window before it. */
function bruteForceScore(window: readonly number[], value: number): number {
  const n = window.length;
  const mean = window.reduce((a, b) => a + b, 0) / n;
  let squares = 0;
  let residue = 0;
  for (const v of window) {
    squares += (v - mean) * (v - mean);
    residue += v - mean;
  }
  return deviationScore(value - mean, Math.sqrt((squares - (residue * residue) / n) / (n - 1)), mean);
}

/** Random segments: each with its own level and scale, so the window straddles both kinds of change. */
function randomSeries(length: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const out: number[] = [];
  let level = 0;
  let scale = 1;
  for (let i = 0; i < length; i++) {
    if (i % 500 === 0) {
      level = (rand() - 0.5) * 2e3;
      scale = Math.pow(10, rand() * 4 - 2);
    }
    out.push(level + scale * gaussian(rand));
  }
  return out;
}

function expectSameScore(actual: number, expected: number): void {
  // Scores near zero come from deviations near zero, which carry the rounding of the
  // mean itself (about 1e-16 of a level up to 1e3, against spreads down to 1e-2); the
  // absolute slack is far below any score that matters.
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9 * expected + 1e-10);
}

describe('WindowedZScoreDetector', () => {
  it.each([2, 7, 128])('scores exactly as a brute-force window computation (window %i)', (window) => {
    const values = randomSeries(6000, window);
    const d: Detector = new WindowedZScoreDetector({ window, grace: window });
    values.forEach((value, i) => {
      const score = d.step(value, i);
      if (i < window) expect(score).toBe(0);
      else expectSameScore(score, bruteForceScore(values.slice(i - window, i), value));
    });
  });

  it('still agrees with the brute-force computation after a million points', () => {
    const window = 128;
    const values = randomSeries(1_000_000, 5);
    const d: Detector = new WindowedZScoreDetector({ window });
    let checked = 0;
    values.forEach((value, i) => {
      const score = d.step(value, i);
      if (i % 9973 === 9972) {
        expectSameScore(score, bruteForceScore(values.slice(i - window, i), value));
        checked++;
      }
    });
    expect(checked).toBe(100);
  });

  it('gives the same scores to a series whatever its unit and offset', () => {
    // Levels and spreads chosen so the spread floor (relative to the level) never binds:
    // that floor is the one thing that is deliberately not scale-free.
    const rand = mulberry32(9);
    const values = Array.from({ length: 3000 }, (_, i) => 50 + (1 + (i % 700) / 80) * gaussian(rand));
    const base = new WindowedZScoreDetector();
    const micro = new WindowedZScoreDetector();
    const offset = new WindowedZScoreDetector();
    values.forEach((value, i) => {
      const expected = base.step(value, i);
      expectSameScore(micro.step(value * 1e-6, i), expected);
      expectSameScore(offset.step(value * 1e4 + 2e5, i), expected);
    });
  });

  it('is calibrated on Gaussian noise: three-sigma scores as often as a t tail says', () => {
    const rand = mulberry32(21);
    const d: Detector = new WindowedZScoreDetector();
    const n = 100_000;
    let beyondThree = 0;
    for (let i = 0; i < n; i++) {
      if (d.step(40 + 0.5 * gaussian(rand), i) >= deviationScore(3, 1, 0)) beyondThree++;
    }
    // Two-sided tail of |Z| > 3 is 0.27%; estimating the mean and spread from 128 points
    // widens it to about 0.30%. Binomial noise on 100k points is about 0.02%.
    expect(beyondThree / n).toBeGreaterThan(0.0024);
    expect(beyondThree / n).toBeLessThan(0.0037);
  });

  it('flags a spike, and forgets it exactly when it leaves the window', () => {
    const rand = mulberry32(4);
    const d: Detector = new WindowedZScoreDetector({ window: 64 });
    for (let i = 0; i < 200; i++) d.learn(10 + gaussian(rand), i);
    expect(d.score(11, 200)).toBeLessThan(0.4);
    expect(d.score(30, 200)).toBeGreaterThan(0.99);
    d.learn(1000, 200);
    // While the spike is inside, the spread it inflated hides an ordinary deviation's size...
    const inside: number[] = [];
    for (let i = 201; i < 264; i++) {
      inside.push(d.score(14, i));
      d.learn(10 + gaussian(rand), i);
    }
    expect(Math.max(...inside)).toBeLessThan(0.2);
    // ...and the point after it leaves sees the ordinary spread again.
    d.learn(10 + gaussian(rand), 264);
    expect(d.score(14, 265)).toBeGreaterThan(0.6);
  });

  it('adapts to a level shift within one window', () => {
    const rand = mulberry32(8);
    const d: Detector = new WindowedZScoreDetector({ window: 100 });
    const scores: number[] = [];
    for (let i = 0; i < 600; i++) scores.push(d.step((i >= 300 ? 20 : 0) + gaussian(rand), i));
    expect(scores[300]).toBeGreaterThan(0.95);
    const settled = scores.slice(400);
    expect(settled.filter((s) => s >= 0.5).length).toBeLessThan(15);
  });

  it('stays silent during its grace period', () => {
    const d: Detector = new WindowedZScoreDetector({ grace: 10 });
    for (let i = 0; i < 9; i++) d.learn(i % 2, i);
    expect(d.score(1e9, 9)).toBe(0);
    d.learn(0, 9);
    expect(d.score(1e9, 10)).toBeGreaterThan(0.99);
  });

  it('refuses a snapshot whose state does not fit its window', () => {
    const snapshot = new WindowedZScoreDetector({ window: 16 }).snapshot();
    expect(() => WindowedZScoreDetector.restore({ ...snapshot, params: { window: 32 } })).toThrow(
      /windowed-zscore: state 's' has length 21, expected 37/,
    );
    const state = snapshot.state.s.slice();
    state[1] = 3; // a head past the count
    expect(() => WindowedZScoreDetector.restore({ ...snapshot, state: { s: state } })).toThrow(
      /does not follow/,
    );
  });
});
