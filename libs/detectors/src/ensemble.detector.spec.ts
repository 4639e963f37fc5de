import { EnsembleDetector } from './ensemble.detector';
import { describeConformance } from './testing/conformance';
import { gaussian, mulberry32 } from './testing/series';

describeConformance({
  kind: 'ensemble',
  create: (params) => new EnsembleDetector(params),
  restore: (snapshot) => EnsembleDetector.restore(snapshot),
  badParams: [
    { params: { weightRobust: -1 }, names: 'weightRobust' },
    { params: { alarmLevel: 1 }, names: 'alarmLevel' },
    { params: { quietPoints: 0.5 }, names: 'quietPoints' },
    { params: { likelihoodWindow: 0 }, names: 'likelihoodWindow' },
    { params: { weightRobust: 0, weightEwma: 0, weightWindowed: 0, weightSeasonal: 0 }, names: 'weightEwma' },
  ],
  maxStateBytes: 8192,
});

describe('EnsembleDetector', () => {
  it('scores a clear spike as an anomaly and ordinary points as not', () => {
    const rand = mulberry32(11);
    const d = new EnsembleDetector();
    const ordinary: number[] = [];
    for (let i = 0; i < 3000; i++)
      ordinary.push(d.step(100 + 5 * Math.sin(i / 30) + gaussian(rand), i * 60_000));
    expect(ordinary.slice(1000).filter((s) => s >= 0.5).length).toBeLessThan(5);
    expect(d.score(160, 3000 * 60_000)).toBeGreaterThan(0.9);
  });

  it('raises one alarm for a sustained incident, not one per point', () => {
    const rand = mulberry32(5);
    const d = new EnsembleDetector();
    const scores: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const level = i < 2000 ? 100 : 130; // a lasting jump of 30 standard deviations
      scores.push(d.step(level + gaussian(rand), i * 60_000));
    }
    const alarms = scores.slice(2000, 2300).filter((s) => s >= 0.5).length;
    expect(alarms).toBeGreaterThanOrEqual(1);
    expect(alarms).toBeLessThan(10);
  });

  it('still reports a level shift that comes soon after a spike: another incident, not a repeat', () => {
    const rand = mulberry32(1);
    const d = new EnsembleDetector();
    const scores: number[] = [];
    for (let i = 0; i < 1500; i++) {
      let value = 100 + 40 * Math.sin((2 * Math.PI * i) / 288) + 6 * gaussian(rand);
      if (i === 1000) value += 300; // a spike, far above everything
      if (i >= 1200) value += 220; // then a lasting shift, inside the range the spike opened
      scores.push(d.step(value, Date.UTC(2024, 0, 1) + i * 300_000));
    }
    expect(scores[1000]).toBeGreaterThanOrEqual(0.5);
    const shiftAlarms = scores.slice(1200, 1500).filter((s) => s >= 0.5).length;
    expect(shiftAlarms).toBeGreaterThanOrEqual(1);
    expect(shiftAlarms).toBeLessThan(5);
  });

  it('gives every member a say in the snapshot, so a restore resumes each of them', () => {
    const snapshot = new EnsembleDetector().snapshot();
    expect(Object.keys(snapshot.children ?? {}).sort()).toEqual(
      ['ewma', 'flatline', 'gap', 'likelihood', 'robust', 'seasonal', 'spike', 'windowed'].sort(),
    );
  });
});
