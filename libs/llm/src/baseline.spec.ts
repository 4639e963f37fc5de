import { baselineOf, bucketedWindow, downsample, median, type WindowPoint } from './baseline';

const T0 = Date.UTC(2024, 4, 1);
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Points at `T0 + i * stepMs` with the given values. */
function points(values: readonly number[], stepMs = MINUTE): WindowPoint[] {
  return values.map((value, i) => ({ ts: T0 + i * stepMs, value }));
}

describe('median', () => {
  it('is the middle value, or the mean of the two middle ones, whatever the order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([-5])).toBe(-5);
  });

  it('leaves its input alone and is NaN without values', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
    expect(median([])).toBeNaN();
  });
});

describe('baselineOf', () => {
  it('describes the window without its last, anomalous point', () => {
    expect(baselineOf(points([10, 12, 11, 13, 9, 100]))).toEqual({
      points: 5,
      median: 11,
      mad: 1,
      min: 9,
      max: 13,
    });
    // A drop to 0 does not become the minimum either.
    expect(baselineOf(points([10, 12, 11, 13, 9, 0]))).toMatchObject({ min: 9, max: 13 });
  });

  it('is undefined when there is nothing before the anomaly', () => {
    expect(baselineOf([])).toBeUndefined();
    expect(baselineOf(points([42]))).toBeUndefined();
  });

  it('adds a median per UTC hour once the points before the anomaly span two days', () => {
    // Hourly points over exactly two days, then the anomaly an hour later.
    const values = Array.from({ length: 49 }, (_, i) => (i % 24) * 10 + Math.floor(i / 24));
    const window = [...points(values, HOUR), { ts: T0 + 49 * HOUR, value: 9999 }];
    const hourly = baselineOf(window)?.hourly;
    expect(hourly).toHaveLength(24);
    // Hour 0 was seen on days 0, 1 and 2; every other hour on days 0 and 1.
    expect(hourly?.[0]).toBe(1);
    expect(hourly?.[5]).toBe(50.5);
    expect(hourly?.[23]).toBe(230.5);
  });

  it('has no hourly profile when the span before the anomaly is short of two days, however late the anomaly', () => {
    const before = [
      { ts: T0, value: 1 },
      { ts: T0 + 2 * DAY - 1, value: 2 },
    ];
    expect(baselineOf([...before, { ts: T0 + 10 * DAY, value: 3 }])?.hourly).toBeUndefined();
    expect(
      baselineOf([...before, { ts: T0 + 2 * DAY, value: 3 }, { ts: T0 + 3 * DAY, value: 4 }])?.hourly,
    ).toHaveLength(24);
  });

  it('leaves the hours without a point null, and buckets by UTC hour', () => {
    // Every other hour over three days, starting at 01:00 UTC: only odd hours have points.
    const window = [
      ...Array.from({ length: 36 }, (_, i) => ({ ts: T0 + HOUR + i * 2 * HOUR, value: i })),
      { ts: T0 + 4 * DAY, value: 0 },
    ];
    const hourly = baselineOf(window)?.hourly ?? [];
    expect(hourly.filter((v, hour) => hour % 2 === 0 && v !== null)).toEqual([]);
    expect(hourly.filter((v, hour) => hour % 2 === 1 && v === null)).toEqual([]);
    // 01:00 on days 0, 1, 2 holds points 0, 12, 24.
    expect(hourly[1]).toBe(12);
  });
});

describe('downsample', () => {
  it('returns a short window whole, as a copy', () => {
    const window = points([1, 2, 3]);
    const out = downsample(window, 3);
    expect(out).toEqual(window);
    expect(out).not.toBe(window);
  });

  it('averages equal-count buckets stamped with their first time, and keeps the last point exactly', () => {
    const window = points([1, 3, 5, 7, 9, 11, 500]);
    expect(downsample(window, 4)).toEqual([
      { ts: T0, value: 2 },
      { ts: T0 + 2 * MINUTE, value: 6 },
      { ts: T0 + 4 * MINUTE, value: 10 },
      { ts: T0 + 6 * MINUTE, value: 500 },
    ]);
  });

  it('never averages the anomalous point away, and never gives more than max points', () => {
    for (const max of [1, 2, 5, 48]) {
      for (let length = 1; length <= 200; length++) {
        const window = points([...Array.from({ length: length - 1 }, () => 10), 1000]);
        const out = downsample(window, max);
        expect(out.length).toBeLessThanOrEqual(max);
        expect(out.length).toBe(Math.min(length, max));
        expect(out[out.length - 1]).toEqual(window[length - 1]);
        expect(out.slice(0, -1).every((p) => p.value === 10)).toBe(true);
        for (let i = 1; i < out.length; i++) expect(out[i].ts).toBeGreaterThan(out[i - 1].ts);
      }
    }
  });

  it('covers every point before the last once: the buckets weigh up to the same total', () => {
    const window = points(Array.from({ length: 101 }, (_, i) => i * i));
    const out = downsample(window, 8);
    // 100 points in 7 buckets of 14 or 15.
    const starts = [...out.slice(0, -1).map((p) => (p.ts - T0) / MINUTE), 100];
    let total = 0;
    for (let b = 0; b < 7; b++) total += out[b].value * (starts[b + 1] - starts[b]);
    expect(total).toBeCloseTo(
      window.slice(0, -1).reduce((sum, p) => sum + p.value, 0),
      6,
    );
  });
});

describe('bucketedWindow', () => {
  it('keeps the first point of each bucket and the point at `at`, and drops the rest', () => {
    const at = 1_000_000;
    const points = [
      { ts: at - 100_001, value: 1e6 },
      { ts: at - 100_000, value: 1 },
      { ts: at - 95_000, value: 2 },
      { ts: at - 90_001, value: 6 },
      { ts: at - 50_000, value: 7 },
      { ts: at - 1, value: 8 },
      { ts: at, value: 400 },
      { ts: at + 1, value: 1e6 },
    ];
    // As PointRepository.window reads the same points (its int-spec has this case).
    expect(bucketedWindow(points, at, 100_000, 10)).toEqual([
      { ts: at - 100_000, value: 1 },
      { ts: at - 50_000, value: 7 },
      { ts: at - 1, value: 8 },
      { ts: at, value: 400 },
    ]);
    expect(bucketedWindow([], at)).toEqual([]);
  });
});
