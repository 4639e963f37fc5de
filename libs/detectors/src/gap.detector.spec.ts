import { GapDetector } from './gap.detector';
import { describeConformance } from './testing/conformance';
import { mulberry32 } from './testing/series';

describeConformance({
  kind: 'gap',
  create: (params) => new GapDetector(params),
  restore: (snapshot) => GapDetector.restore(snapshot),
  badParams: [
    { params: { rate: 2 }, names: 'rate' },
    { params: { tolerance: 0.5 }, names: 'tolerance' },
  ],
  maxStateBytes: 256,
});

describe('GapDetector', () => {
  const feed = (d: GapDetector, n: number, every: number, start = 0) => {
    const rand = mulberry32(2);
    let t = start;
    for (let i = 0; i < n; i++) {
      t += every * (0.9 + 0.2 * rand());
      d.learn(1, t);
    }
    return t;
  };

  it('scores the first point after a silence by how many intervals were missed', () => {
    const d = new GapDetector();
    const t = feed(d, 500, 10_000);
    expect(d.score(1, t + 12_000)).toBe(0);
    const short = d.score(1, t + 60_000);
    const long = d.score(1, t + 600_000);
    expect(short).toBeGreaterThan(0);
    expect(long).toBeGreaterThan(short);
    expect(long).toBeGreaterThan(0.9);
  });

  it('judges an hourly metric and a 10-second metric alike', () => {
    const fast = new GapDetector();
    const slow = new GapDetector();
    const tf = feed(fast, 500, 10_000);
    const ts = feed(slow, 500, 3_600_000);
    expect(fast.score(1, tf + 10 * 10_000)).toBeCloseTo(slow.score(1, ts + 10 * 3_600_000), 1);
  });

  it('ignores repeated and out-of-order timestamps', () => {
    const d = new GapDetector();
    const t = feed(d, 500, 10_000);
    for (let i = 0; i < 50; i++) d.learn(1, t);
    d.learn(1, t - 50_000);
    expect(d.score(1, t + 10_000)).toBe(0);
  });
});
