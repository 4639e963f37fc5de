import { FlatlineDetector } from './flatline.detector';
import { describeConformance } from './testing/conformance';
import { gaussian, mulberry32 } from './testing/series';

describeConformance({
  kind: 'flatline',
  create: (params) => new FlatlineDetector(params),
  restore: (snapshot) => FlatlineDetector.restore(snapshot),
  badParams: [
    { params: { memory: 0 }, names: 'memory' },
    { params: { minMoves: 0 }, names: 'minMoves' },
    { params: { grace: 1 }, names: 'grace' },
  ],
  maxStateBytes: 256,
});

describe('FlatlineDetector', () => {
  it('flags a noisy metric that freezes, and more the longer it stays frozen', () => {
    const rand = mulberry32(4);
    const d = new FlatlineDetector();
    for (let i = 0; i < 3000; i++) d.learn(50 + gaussian(rand));
    const scores: number[] = [];
    for (let i = 0; i < 40; i++) scores.push(d.step(42, 0));
    expect(scores[0]).toBe(0);
    expect(scores[39]).toBeGreaterThan(0.9);
    expect(scores[39]).toBeGreaterThanOrEqual(scores[10]);
  });

  it('never flags a metric that has never moved: constant is its normal', () => {
    const d = new FlatlineDetector();
    let worst = 0;
    for (let i = 0; i < 5000; i++) worst = Math.max(worst, d.step(50, i));
    expect(worst).toBe(0);
  });

  it('stays quiet on a metric that is often flat (a queue at zero)', () => {
    const d = new FlatlineDetector();
    for (let i = 0; i < 5000; i++) d.learn(i % 100 < 60 ? 0 : i % 7);
    let worst = 0;
    for (let i = 0; i < 60; i++) worst = Math.max(worst, d.step(0, 0));
    expect(worst).toBeLessThan(0.5);
  });
});
