import { SequenceDetector } from './sequence.detector';
import { describeConformance } from './testing/conformance';
import { gaussian, mulberry32 } from './testing/series';

describeConformance({
  kind: 'sequence',
  create: (params) => new SequenceDetector(params),
  restore: (snapshot) => SequenceDetector.restore(snapshot),
  badParams: [
    { params: { levels: 1 }, names: 'levels' },
    { params: { order: 5 }, names: 'order' },
    { params: { levels: 32, order: 3 }, names: 'order' },
    { params: { memory: 5 }, names: 'memory' },
  ],
  maxStateBytes: 2048,
});

describe('SequenceDetector', () => {
  it('flags a familiar value arriving out of its usual order', () => {
    // A sawtooth: low, middle, high, low, middle, high...
    const rand = mulberry32(8);
    const d = new SequenceDetector();
    const shape = [10, 55, 90]; // each well inside one of the 8 levels, not on a boundary
    for (let i = 0; i < 3000; i++) d.learn(shape[i % 3] + gaussian(rand));
    // After low, middle: expected. After low, high: every value is familiar, the order is not.
    d.learn(10);
    d.learn(55);
    d.learn(90);
    d.learn(10);
    expect(d.score(55)).toBeLessThan(0.2);
    expect(d.score(90)).toBeGreaterThan(0.8);
  });

  it('learns a new rhythm once it repeats', () => {
    const d = new SequenceDetector();
    for (let i = 0; i < 3000; i++) d.learn([10, 90][i % 2]);
    const first = d.score(10);
    for (let i = 0; i < 3000; i++) d.learn([10, 10, 90, 90][i % 4]);
    d.learn(10);
    d.learn(10);
    expect(d.score(90)).toBeLessThan(0.3);
    expect(first).toBeLessThan(0.3);
  });
});
