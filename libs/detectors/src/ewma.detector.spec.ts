import { EwmaDetector } from './ewma.detector';
import { describeConformance } from './testing/conformance';

describeConformance({
  kind: 'ewma',
  create: (params) => new EwmaDetector(params),
  restore: (snapshot) => EwmaDetector.restore(snapshot),
  badParams: [
    { params: { halfLife: 0 }, names: 'halfLife' },
    { params: { halfLife: Number.NaN }, names: 'halfLife' },
    { params: { grace: 1.5 }, names: 'grace' },
    { params: { grace: true }, names: 'grace' },
  ],
  maxStateBytes: 256,
});

describe('EwmaDetector', () => {
  it('scores a spike far above ordinary noise', () => {
    const d = new EwmaDetector();
    for (let i = 0; i < 500; i++) d.learn(10 + Math.sin(i), i);
    expect(d.score(11, 500)).toBeLessThan(0.5);
    expect(d.score(40, 500)).toBeGreaterThan(0.9);
  });

  it('stays silent during its grace period', () => {
    const d = new EwmaDetector({ grace: 10 });
    for (let i = 0; i < 9; i++) d.learn(i, i);
    expect(d.score(1e9, 10)).toBe(0);
  });
});
