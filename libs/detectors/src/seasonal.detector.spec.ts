import { DetectorErrorCode } from './errors';
import { SeasonalDetector } from './seasonal.detector';
import { describeConformance } from './testing/conformance';
import { gaussian, mulberry32, type TestPoint } from './testing/series';

describeConformance({
  kind: 'seasonal',
  create: (params) => new SeasonalDetector(params),
  restore: (snapshot) => SeasonalDetector.restore(snapshot),
  badParams: [
    { params: { warmup: 10 }, names: 'warmup' },
    { params: { warmup: 1000.5 }, names: 'warmup' },
    { params: { periodMs: -1 }, names: 'periodMs' },
    { params: { maxBins: 257 }, names: 'maxBins' },
    { params: { levelHalfLife: 0 }, names: 'levelHalfLife' },
    { params: { seasonHalfLife: Number.NaN }, names: 'seasonHalfLife' },
    { params: { scaleHalfLife: '64' }, names: 'scaleHalfLife' },
    { params: { minCorrelation: 1 }, names: 'minCorrelation' },
  ],
  maxStateBytes: 2560,
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const STEP = 5 * MINUTE;
const START = Date.UTC(2024, 0, 1);

/** 100 + 20 sin(2 pi h / 24) + noise: the peak at 06:00 (120), the trough at 18:00 (80). */
function cycle(t: number): number {
  return 100 + 20 * Math.sin((2 * Math.PI * (t - START)) / DAY);
}

/** `days` of 5-minute points from `from`, with a few seconds of jitter and unit noise. */
function daily(days: number, seed: number, from = START, noise = (_t: number) => 1): TestPoint[] {
  const rand = mulberry32(seed);
  return Array.from({ length: Math.round((days * DAY) / STEP) }, (_, i) => {
    const t = from + i * STEP + Math.round((rand() - 0.5) * 10_000);
    return { t, value: cycle(t) + noise(t) * gaussian(rand) };
  });
}

function feed(d: SeasonalDetector, points: TestPoint[]): number[] {
  return points.map((p) => d.step(p.value, p.t));
}

describe('SeasonalDetector', () => {
  it('learns the daily cycle during its warm-up and scores only after it', () => {
    const d = new SeasonalDetector();
    const points = daily(4, 1);
    const scores = feed(d, points.slice(0, 999));
    expect(scores.every((s) => s === 0)).toBe(true);
    expect(d.score(1e6, points[999].t)).toBe(0);
    expect(d.periodMs).toBe(0);
    d.step(points[999].value, points[999].t);
    expect(d.periodMs).toBe(DAY);
    expect(d.score(1e6, points[1000].t)).toBeGreaterThan(0.99);
  });

  it('tells what the cycle adds at any time of day, and nothing before it knows the cycle', () => {
    const d = new SeasonalDetector();
    const points = daily(5, 4);
    feed(d, points.slice(0, 500));
    expect(d.seasonalOffset(START + 6 * HOUR)).toBe(0);
    feed(d, points.slice(500));
    const snapshot = JSON.stringify(d.snapshot().state.s);
    // The profile around the level: +20 at the 06:00 peak, -20 at the 18:00 trough, 0 between.
    expect(d.seasonalOffset(START + 5 * DAY + 6 * HOUR)).toBeCloseTo(20, 0);
    expect(d.seasonalOffset(START + 5 * DAY + 18 * HOUR)).toBeCloseTo(-20, 0);
    expect(Math.abs(d.seasonalOffset(START + 5 * DAY + 12 * HOUR))).toBeLessThan(1.5);
    expect(JSON.stringify(d.snapshot().state.s)).toBe(snapshot);
  });

  it('does not flag the daily peak at its usual hour, but flags the same value at the trough', () => {
    const d = new SeasonalDetector();
    feed(d, daily(5, 2));
    const peak = START + 5 * DAY + 6 * HOUR;
    const trough = START + 5 * DAY + 18 * HOUR;
    expect(d.score(120, peak)).toBeLessThan(0.3);
    expect(d.score(80, trough)).toBeLessThan(0.3);
    expect(d.score(120, trough)).toBeGreaterThan(0.99);
    expect(d.score(80, peak)).toBeGreaterThan(0.99);
  });

  it('scores ordinary points low and spikes and dips high, relative to the time of day', () => {
    const d = new SeasonalDetector();
    const scores = feed(d, daily(6, 3));
    const after = scores.slice(1200);
    expect(after.filter((s) => s > 0.8).length).toBeLessThanOrEqual(after.length * 0.005);
    const t = START + 6 * DAY + 9 * HOUR;
    expect(d.score(cycle(t) + 0.5, t)).toBeLessThan(0.3);
    expect(d.score(cycle(t) + 10, t)).toBeGreaterThan(0.9);
    expect(d.score(cycle(t) - 10, t)).toBeGreaterThan(0.9);
  });

  it('keeps its phase across a gap of several hours', () => {
    const d = new SeasonalDetector();
    feed(d, daily(4, 4));
    const resume = START + 4 * DAY + 7 * HOUR;
    const scores = feed(d, daily(1, 5, resume));
    expect(Math.max(...scores)).toBeLessThan(0.8);
    const t = resume + DAY + 6 * HOUR - 7 * HOUR; // 06:00 the next day
    expect(d.score(120, t)).toBeLessThan(0.3);
    expect(d.score(80, t)).toBeGreaterThan(0.99);
  });

  it('shrugs off repeated timestamps, in the warm-up and after it', () => {
    const d = new SeasonalDetector();
    const points = daily(5, 6).flatMap((p, i) => {
      // Every 7th point comes three times, and one comes twelve times (a DST replay).
      const copies = i === 1300 ? 12 : i % 7 === 0 ? 3 : 1;
      return Array.from({ length: copies }, () => p);
    });
    const scores = feed(d, points);
    expect(d.periodMs).toBe(DAY);
    expect(scores.slice(1200).filter((s) => s > 0.8).length).toBeLessThanOrEqual(points.length * 0.005);
    const t = START + 5 * DAY + 6 * HOUR;
    expect(d.score(120, t)).toBeLessThan(0.3);
    expect(d.score(80, t)).toBeGreaterThan(0.99);
  });

  it('learns how noisy each hour is: busy hours swing more than quiet ones', () => {
    const busy = (t: number) => {
      const hour = ((t - START) % DAY) / HOUR;
      return hour >= 9 && hour < 17 ? 6 : 0.5;
    };
    const d = new SeasonalDetector();
    feed(d, daily(10, 7, START, busy));
    const noon = START + 10 * DAY + 12 * HOUR;
    const night = START + 10 * DAY + 3 * HOUR;
    // Ten units is under two spreads at noon and over ten at 03:00.
    expect(d.score(cycle(noon) + 10, noon)).toBeLessThan(0.5);
    expect(d.score(cycle(night) + 10, night)).toBeGreaterThan(0.95);
  });

  it('follows a lasting level shift instead of flagging it forever', () => {
    const d = new SeasonalDetector();
    feed(d, daily(5, 8));
    const shifted = daily(3, 9, START + 5 * DAY).map((p) => ({ t: p.t, value: p.value + 15 }));
    const scores = feed(d, shifted);
    expect(scores[0]).toBeGreaterThan(0.95);
    const settled = scores.slice(400);
    expect(settled.filter((s) => s > 0.8).length).toBeLessThanOrEqual(settled.length * 0.01);
  });

  it('without a cycle it is a robust level: flags spikes, not noise', () => {
    const rand = mulberry32(10);
    const d = new SeasonalDetector();
    for (let i = 0; i < 1500; i++) d.step(50 + gaussian(rand), START + i * STEP);
    expect(d.periodMs).toBe(0);
    const t = START + 1500 * STEP;
    expect(d.score(50.5, t)).toBeLessThan(0.3);
    expect(d.score(62, t)).toBeGreaterThan(0.9);
    expect(d.score(38, t)).toBeGreaterThan(0.9);
  });

  it('takes the period it is given in periodMs', () => {
    const rand = mulberry32(11);
    const hourly = (t: number) => ((t - START) % HOUR < 10 * MINUTE ? 40 : 10);
    const d = new SeasonalDetector({ periodMs: HOUR, warmup: 300 });
    for (let i = 0; i < 600; i++) {
      const t = START + i * MINUTE;
      d.step(hourly(t) + gaussian(rand), t);
    }
    expect(d.periodMs).toBe(HOUR);
    const t = START + 600 * MINUTE;
    expect(d.score(40, t + 5 * MINUTE)).toBeLessThan(0.3);
    expect(d.score(40, t + 35 * MINUTE)).toBeGreaterThan(0.99);
  });

  it('scores the same whatever the unit of the series', () => {
    const points = daily(5, 12);
    const scores = feed(new SeasonalDetector(), points);
    for (const unit of [1e-3, 1e4]) {
      const rescaled = feed(
        new SeasonalDetector(),
        points.map((p) => ({ t: p.t, value: unit * p.value })),
      );
      expect(Math.max(...scores.map((s, i) => Math.abs(s - rescaled[i])))).toBeLessThan(1e-4);
    }
  });

  it('refuses a snapshot whose bins and period do not fit together', () => {
    const d = new SeasonalDetector();
    feed(d, daily(4, 13));
    const snapshot = d.snapshot();
    const s = (snapshot.state.s as Float64Array).slice().fill(-1);
    expect(() => SeasonalDetector.restore({ ...snapshot, state: { ...snapshot.state, s } })).toThrow(
      expect.objectContaining({ code: DetectorErrorCode.CORRUPT_SNAPSHOT }),
    );
  });
});
