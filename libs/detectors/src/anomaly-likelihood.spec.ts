import { AnomalyLikelihood, upperTail } from './anomaly-likelihood';
import { decodeSnapshot, encodeSnapshot } from './codec';
import { DetectorErrorCode } from './errors';
import { mulberry32 } from './testing/series';

describe('upperTail', () => {
  it('matches the standard normal tail', () => {
    expect(upperTail(0)).toBeCloseTo(0.5, 7);
    expect(upperTail(1.959964)).toBeCloseTo(0.025, 6);
    expect(upperTail(-1.959964)).toBeCloseTo(0.975, 6);
    expect(upperTail(4.264891)).toBeCloseTo(1e-5, 9);
  });
});

describe('AnomalyLikelihood', () => {
  const noise = (l: AnomalyLikelihood, n: number, level: number, seed = 1) => {
    const rand = mulberry32(seed);
    for (let i = 0; i < n; i++) l.learn(level * (0.5 + rand()));
  };

  it('says the same of a run of high raw scores on a noisy series and on a quiet one', () => {
    const noisy = new AnomalyLikelihood();
    const quiet = new AnomalyLikelihood();
    noise(noisy, 4000, 0.4);
    noise(quiet, 4000, 0.05);
    // The same raw score is routine on one and exceptional on the other...
    expect(noisy.score(0.5)).toBeLessThan(0.3);
    expect(quiet.score(0.5)).toBeGreaterThan(noisy.score(0.5));
    // ...while a sustained jump well above each series' own normal raises an alarm on both.
    let noisyPeak = 0;
    let quietPeak = 0;
    for (let i = 0; i < 10; i++) {
      noisyPeak = Math.max(noisyPeak, noisy.score(1));
      quietPeak = Math.max(quietPeak, quiet.score(0.5));
      noisy.learn(1);
      quiet.learn(0.5);
    }
    expect(noisyPeak).toBeGreaterThan(0.5);
    expect(quietPeak).toBeGreaterThan(0.5);
  });

  it('reports a run of red points once, then as merely unusual', () => {
    const l = new AnomalyLikelihood();
    noise(l, 4000, 0.1);
    const scores: number[] = [];
    for (let i = 0; i < 10; i++) {
      scores.push(l.score(1));
      l.learn(1);
    }
    const firstRed = scores.findIndex((s) => s >= 0.5);
    expect(firstRed).toBeGreaterThanOrEqual(0);
    expect(scores[firstRed + 1]).toBeCloseTo(Math.log(1e-3 + 1e-10) / Math.log(1e-10), 6);
  });

  it('says nothing during its grace period', () => {
    const l = new AnomalyLikelihood({ likelihoodGrace: 50 });
    noise(l, 49, 0.1);
    expect(l.score(1)).toBe(0);
  });

  it('round-trips its state', () => {
    const l = new AnomalyLikelihood({ likelihoodWindow: 7 });
    noise(l, 1234, 0.2);
    const copy = AnomalyLikelihood.restore(decodeSnapshot(encodeSnapshot(l.snapshot())));
    const rand = mulberry32(5);
    for (let i = 0; i < 500; i++) {
      const raw = rand();
      expect(copy.score(raw)).toBe(l.score(raw));
      copy.learn(raw);
      l.learn(raw);
    }
  });

  it('refuses bad parameters by name and unknown snapshot versions', () => {
    expect(() => new AnomalyLikelihood({ likelihoodWindow: 0 })).toThrow(/'likelihoodWindow'/);
    const snapshot = new AnomalyLikelihood().snapshot();
    expect(() => AnomalyLikelihood.restore({ ...snapshot, version: 99 })).toThrow(
      expect.objectContaining({ code: DetectorErrorCode.UNSUPPORTED_SNAPSHOT }),
    );
  });
});
