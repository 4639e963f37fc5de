import { RobustZScoreDetector } from './robust-zscore.detector';
import { describeConformance } from './testing/conformance';
import { gaussian, mulberry32 } from './testing/series';

describeConformance({
  kind: 'robust-zscore',
  create: (params) => new RobustZScoreDetector(params),
  restore: (snapshot) => RobustZScoreDetector.restore(snapshot),
  badParams: [
    { params: { rate: 0 }, names: 'rate' },
    { params: { rate: 1 }, names: 'rate' },
    { params: { grace: 0 }, names: 'grace' },
  ],
  maxStateBytes: 256,
});

describe('RobustZScoreDetector', () => {
  it('tracks the median and a normal spread despite heavy outliers', () => {
    const rand = mulberry32(3);
    const d = new RobustZScoreDetector();
    for (let i = 0; i < 20_000; i++) {
      // One point in twenty is a wild outlier: a mean and a variance would be dragged away.
      const v = i % 20 === 0 ? 1e6 : 50 + 2 * gaussian(rand);
      d.learn(v);
    }
    const state = d.snapshot().state.s as Float64Array;
    expect(state[1]).toBeGreaterThan(49);
    expect(state[1]).toBeLessThan(51.5);
    expect(d.score(51)).toBeLessThan(0.3);
    expect(d.score(70)).toBeGreaterThan(0.9);
  });

  it('keeps a usable spread on quantised metrics where most points equal the median', () => {
    const d = new RobustZScoreDetector();
    for (let i = 0; i < 5000; i++) d.learn([0.134, 0.134, 0.134, 0.132, 0.136][i % 5]);
    // A one-step tick is ordinary; ten steps away is not.
    expect(d.score(0.136)).toBeLessThan(0.5);
    expect(d.score(0.154)).toBeGreaterThan(0.9);
  });

  it('follows a level that moves', () => {
    const d = new RobustZScoreDetector();
    for (let i = 0; i < 3000; i++) d.learn(10 + (i % 2));
    for (let i = 0; i < 3000; i++) d.learn(100 + (i % 2));
    expect(d.score(100.5)).toBeLessThan(0.3);
  });
});
