import { gaussian, mulberry32 } from '../testing/series';
import {
  findPeriod,
  PERIOD_BLOCKS,
  PERIOD_COLLECTOR_SLOTS,
  PeriodCollector,
  type PeriodEstimate,
  snapToClock,
} from './period';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const START = Date.UTC(2024, 0, 1);

function samples(length: number, at: (i: number) => number): Float64Array {
  return Float64Array.from({ length }, (_, i) => at(i));
}

function collector(warmup: number): PeriodCollector {
  return new PeriodCollector(
    warmup,
    new Float32Array(PERIOD_BLOCKS),
    new Float32Array(PERIOD_BLOCKS),
    new Float64Array(PERIOD_COLLECTOR_SLOTS),
  );
}

/** Feeds `points` (value, t) pairs to a collector sized to take them all, and estimates. */
function estimate(points: Array<[number, number]>): PeriodEstimate {
  const c = collector(points.length);
  for (const [value, t] of points) c.add(value, t);
  expect(c.done).toBe(true);
  return c.estimate();
}

/** Every 5 minutes for `days` days, the value a function of the time of day in hours. */
function fiveMinutely(days: number, at: (hourOfDay: number, rand: () => number) => number, seed = 1) {
  const rand = mulberry32(seed);
  return Array.from({ length: days * 288 }, (_, i): [number, number] => {
    const t = START + i * 5 * MINUTE;
    return [at(((t - START) % DAY) / HOUR, rand), t];
  });
}

describe('findPeriod', () => {
  it('finds the period of a noisy sine to within 2%', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const rand = mulberry32(seed);
      const period = 37 + 7 * seed; // 44 to 107 samples, mostly not whole divisors of anything
      const found = findPeriod(
        samples(1000, (i) => Math.sin((2 * Math.PI * i) / period) + 0.5 * gaussian(rand)),
      );
      expect(Math.abs(found - period) / period).toBeLessThan(0.02);
    }
  });

  it('takes the first peak near the highest: the cycle, not a multiple of it', () => {
    // A cycle of 50 whose odd and even repeats differ a little: the ACF at 100 is a
    // bit higher than at 50, and the period is 50 unless the tolerance asks for more.
    const rand = mulberry32(3);
    const alternating = (amplitude: number) =>
      samples(
        2000,
        (i) =>
          Math.sin((2 * Math.PI * i) / 50) +
          amplitude * Math.sin((2 * Math.PI * i) / 100) +
          0.3 * gaussian(rand),
      );
    const slight = alternating(0.3);
    expect(findPeriod(slight)).toBeCloseTo(50, 1);
    expect(findPeriod(slight, { harmonicTolerance: 0.95 })).toBeCloseTo(100, 1);
    // When the repeats differ a lot, the pattern's real period is 100.
    expect(findPeriod(alternating(0.8))).toBeCloseTo(100, 1);
  });

  it('finds a cycle riding on a trend', () => {
    const rand = mulberry32(5);
    const found = findPeriod(
      samples(800, (i) => 0.05 * i + 3 * Math.sin((2 * Math.PI * i) / 50) + gaussian(rand)),
    );
    expect(Math.abs(found - 50) / 50).toBeLessThan(0.02);
  });

  it('finds no period in white noise', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rand = mulberry32(seed);
      expect(findPeriod(samples(256, () => gaussian(rand)))).toBe(0);
    }
  });

  it('finds no period in a random walk, with or without drift', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rand = mulberry32(seed);
      let walk = 0;
      expect(findPeriod(samples(256, () => (walk += gaussian(rand))))).toBe(0);
      expect(findPeriod(samples(256, (i) => (walk += gaussian(rand)) + 0.5 * i))).toBe(0);
    }
  });

  it('finds nothing in what carries no information', () => {
    expect(findPeriod(samples(300, () => 7))).toBe(0);
    expect(findPeriod(samples(300, (i) => 2 * i - 5))).toBe(0);
    expect(findPeriod(samples(5, (i) => Math.sin(i)))).toBe(0);
    expect(findPeriod(samples(300, (i) => (i === 10 ? Number.NaN : Math.sin(i / 5))))).toBe(0);
  });

  it('does not overflow on values near the top of the double range', () => {
    const found = findPeriod(samples(500, (i) => 1e307 * Math.sin((2 * Math.PI * i) / 40)));
    expect(found).toBeCloseTo(40, 1);
  });

  it('refuses a cycle weaker than minCorrelation', () => {
    const rand = mulberry32(9);
    // A quarter of the variance is the cycle: its ACF peaks near 0.25.
    const weak = samples(1000, (i) => 0.8 * Math.sin((2 * Math.PI * i) / 80) + gaussian(rand));
    expect(Math.abs(findPeriod(weak, { minCorrelation: 0.15 }) - 80)).toBeLessThan(1.6);
    expect(findPeriod(weak, { minCorrelation: 0.4 })).toBe(0);
  });
});

describe('snapToClock', () => {
  it('rounds an estimate near a clock period onto it and leaves the rest alone', () => {
    expect(snapToClock(23.4 * HOUR)).toBe(DAY);
    expect(snapToClock(24.6 * HOUR)).toBe(DAY);
    expect(snapToClock(61 * MINUTE)).toBe(HOUR);
    expect(snapToClock(6.9 * DAY)).toBe(7 * DAY);
    expect(snapToClock(80 * MINUTE)).toBe(80 * MINUTE);
    expect(snapToClock(22 * HOUR)).toBe(22 * HOUR);
  });
});

describe('PeriodCollector', () => {
  it('finds a daily cycle sampled every 5 minutes over 4 days', () => {
    const found = estimate(
      fiveMinutely(4, (h, rand) => 50 + 20 * Math.sin((2 * Math.PI * h) / 24) + 2 * gaussian(rand)),
    );
    expect(found.periodMs).toBe(DAY);
    expect(found.pointsPerPeriod).toBeCloseTo(288, 0);
  });

  it('finds the day in square-wave traffic: busy 09:00 to 18:00, quiet otherwise', () => {
    const found = estimate(
      fiveMinutely(4, (h, rand) => (h >= 9 && h < 18 ? 800 : 120) + 30 * gaussian(rand)),
    );
    expect(found.periodMs).toBe(DAY);
  });

  it('finds the day under a trend', () => {
    let i = 0;
    const found = estimate(
      fiveMinutely(4, (h, rand) => 0.05 * i++ + 5 * Math.sin((2 * Math.PI * h) / 24) + gaussian(rand)),
    );
    expect(found.periodMs).toBe(DAY);
  });

  it('keeps the period in time through a gap, jitter and repeated timestamps', () => {
    const rand = mulberry32(11);
    const points: Array<[number, number]> = [];
    let t = START;
    for (let i = 0; points.length < 1100; i++) {
      const value = 10 * Math.sin((2 * Math.PI * (t - START)) / DAY) + gaussian(rand);
      points.push([value, t]);
      if (i % 50 === 7) points.push([value, t], [value, t]); // the same timestamp, three times
      t += i === 400 ? 9 * HOUR : 5 * MINUTE + Math.round((rand() - 0.5) * 20_000);
    }
    const found = estimate(points);
    expect(found.periodMs).toBe(DAY);
    // Points per day over the whole stretch: the gap counts, as a day with fewer points.
    const days = (points[points.length - 1][1] - points[0][1]) / DAY;
    expect(Math.abs(found.pointsPerPeriod - points.length / days) / (points.length / days)).toBeLessThan(
      0.02,
    );
  });

  it('finds a period that is no clock period, in milliseconds', () => {
    const rand = mulberry32(2);
    const points = Array.from({ length: 1000 }, (_, i): [number, number] => [
      Math.sin((2 * Math.PI * i) / 100) + 0.3 * gaussian(rand),
      START + i * 5 * MINUTE,
    ]);
    const found = estimate(points);
    // 100 points of 5 minutes: 500 minutes, far from any clock period.
    expect(Math.abs(found.periodMs - 500 * MINUTE) / (500 * MINUTE)).toBeLessThan(0.01);
  });

  it('finds no period in noise or a random walk', () => {
    const rand = mulberry32(4);
    let walk = 0;
    expect(estimate(fiveMinutely(4, (_, r) => gaussian(r), 8)).periodMs).toBe(0);
    expect(estimate(fiveMinutely(4, () => (walk += gaussian(rand)), 9)).periodMs).toBe(0);
  });

  it('finds no period when time stands still', () => {
    expect(
      estimate(Array.from({ length: 600 }, (_, i): [number, number] => [Math.sin(i), START])).periodMs,
    ).toBe(0);
  });

  it('keeps at most PERIOD_BLOCKS blocks and ignores points past the warm-up', () => {
    const c = collector(1000);
    expect(c.blockSize).toBe(4);
    for (let i = 0; i < 1500; i++) c.add(i, START + i * MINUTE);
    expect(c.seen).toBe(1000);
    expect(c.blockCount).toBe(250);
    // The last block averages points 996..999, not any that came later.
    expect(c.blockValue(249)).toBeCloseTo(997.5, 3);
    expect(c.blockTime(249)).toBe(START + 997.5 * MINUTE);
    expect(c.origin).toBe(START);
  });

  it('closes a short last block when the warm-up is not a multiple of the block size', () => {
    const c = collector(1001);
    for (let i = 0; i < 1001; i++) c.add(2 * i, START + i * MINUTE);
    expect(c.blockCount).toBe(251);
    expect(c.blockValue(250)).toBe(2000);
    expect(c.pointsPerMs()).toBeCloseTo(1 / MINUTE, 12);
  });

  it('keeps the detail of small changes on a large value, in float32', () => {
    const c = collector(256);
    for (let i = 0; i < 256; i++) c.add(1e9 + (i % 2) * 0.5, START + i * MINUTE);
    expect(c.blockValue(0)).toBe(1e9);
    expect(c.blockValue(1)).toBe(1e9 + 0.5);
  });
});
