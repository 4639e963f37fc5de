import { EnsembleDetector } from './ensemble.detector';
import { describeConformance } from './testing/conformance';
import { gaussian, mixedSeries, mulberry32 } from './testing/series';

describeConformance({
  kind: 'ensemble',
  create: (params) => new EnsembleDetector(params),
  restore: (snapshot) => EnsembleDetector.restore(snapshot),
  badParams: [
    { params: { weightRobust: -1 }, names: 'weightRobust' },
    { params: { alarmLevel: 1 }, names: 'alarmLevel' },
    { params: { quietPoints: 0.5 }, names: 'quietPoints' },
    { params: { likelihoodWindow: 0 }, names: 'likelihoodWindow' },
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
    const d = new EnsembleDetector();
    const series = mixedSeries(4000, 3);
    const scores = series.map((p) => d.step(p.value, p.t));
    // The level shift at 60% of the series: a few alarms at most while it settles in.
    const shift = Math.floor(4000 * 0.6);
    const alarms = scores.slice(shift, shift + 150).filter((s) => s >= 0.5).length;
    expect(alarms).toBeGreaterThanOrEqual(1);
    expect(alarms).toBeLessThan(15);
  });

  it('gives every member a say in the snapshot, so a restore resumes each of them', () => {
    const snapshot = new EnsembleDetector().snapshot();
    expect(Object.keys(snapshot.children ?? {}).sort()).toEqual(
      ['ewma', 'flatline', 'gap', 'likelihood', 'robust', 'spike'].sort(),
    );
  });
});
