import { SpikeDetector } from './spike.detector';
import { describeConformance } from './testing/conformance';
import { gaussian, mulberry32 } from './testing/series';

describeConformance({
  kind: 'spike',
  create: (params) => new SpikeDetector(params),
  restore: (snapshot) => SpikeDetector.restore(snapshot),
  badParams: [
    { params: { memory: 1 }, names: 'memory' },
    { params: { margin: 0 }, names: 'margin' },
    { params: { grace: -1 }, names: 'grace' },
  ],
  maxStateBytes: 256,
});

describe('SpikeDetector', () => {
  const noisy = (d: SpikeDetector, n: number) => {
    const rand = mulberry32(9);
    for (let i = 0; i < n; i++) d.learn(100 + 10 * Math.sin(i / 20) + gaussian(rand));
  };

  it('is silent inside the seen range and rises with the excess beyond it', () => {
    const d = new SpikeDetector();
    noisy(d, 2000);
    expect(d.score(105)).toBe(0);
    const justOut = d.score(116);
    const farOut = d.score(130);
    expect(justOut).toBeGreaterThan(0);
    expect(farOut).toBeGreaterThan(justOut);
    expect(farOut).toBeGreaterThan(0.95);
    expect(d.score(70)).toBeGreaterThan(0.95);
  });

  it('forgets an old excursion slowly, so later ones are seen again', () => {
    const d = new SpikeDetector({ memory: 500 });
    noisy(d, 500);
    d.learn(500);
    expect(d.score(400)).toBe(0);
    noisy(d, 5000);
    expect(d.score(400)).toBeGreaterThan(0.9);
  });
});
