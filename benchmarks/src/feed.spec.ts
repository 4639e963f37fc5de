import { type Detector, type DetectorSnapshot } from '@seismo/detectors';
import { Feed } from './feed';
import { type Series } from './series';

const DAY_MS = 86_400_000;

/** Records what it is fed; scores every point 0.25 so the feed's sum can be checked. */
class RecordingDetector implements Detector {
  readonly kind = 'recording';
  readonly seen: Array<[number, number]> = [];
  learn(): void {}
  score(): number {
    return 0.25;
  }
  step(value: number, t: number): number {
    this.seen.push([value, t]);
    return 0.25;
  }
  snapshot(): DetectorSnapshot {
    return { kind: this.kind, version: 1, params: {}, state: {} };
  }
}

// Values 0..5, one an hour: value i sits at hour i, so a point's origin is visible.
const hourly: Series = {
  t: Float64Array.from({ length: 6 }, (_, i) => i * 3_600_000),
  values: Float64Array.from({ length: 6 }, (_, i) => i),
  source: 'test',
};

function recorders(count: number): RecordingDetector[] {
  return Array.from({ length: count }, () => new RecordingDetector());
}

describe('Feed', () => {
  it('replays the data as it is to a single series, then again a whole day later', () => {
    const [detector] = recorders(1);
    const sum = new Feed(hourly, 1).run([detector], 8);
    expect(sum).toBe(8 * 0.25);
    expect(detector.seen).toEqual([
      [0, 0],
      [1, 3_600_000],
      [2, 7_200_000],
      [3, 10_800_000],
      [4, 14_400_000],
      [5, 18_000_000],
      [0, DAY_MS],
      [1, DAY_MS + 3_600_000],
    ]);
  });

  it('gives every series one point per tick, each series from its own place in the data', () => {
    const detectors = recorders(3);
    new Feed(hourly, 3).run(detectors, 6);
    expect(detectors.map((d) => d.seen)).toEqual([
      [
        [0, 0],
        [1, 3_600_000],
      ],
      [
        [2, 0],
        [3, 3_600_000],
      ],
      [
        [4, 0],
        [5, 3_600_000],
      ],
    ]);
  });

  it('carries on across runs where the last one stopped, mid-tick included', () => {
    const whole = recorders(4);
    new Feed(hourly, 4).run(whole, 30);
    const split = recorders(4);
    const feed = new Feed(hourly, 4);
    for (const points of [7, 1, 13, 9]) feed.run(split, points);
    expect(split.map((d) => d.seen)).toEqual(whole.map((d) => d.seen));
  });

  it('warms each series with the very points interleaved runs would give it', () => {
    const interleaved = recorders(4);
    const feed = new Feed(hourly, 4);
    const runSum = feed.run(interleaved, 4 * 9);
    feed.run(interleaved, 11);
    const warmed = recorders(4);
    const other = new Feed(hourly, 4);
    expect(other.warm(warmed, 9)).toBe(runSum);
    other.run(warmed, 11);
    expect(warmed.map((d) => d.seen)).toEqual(interleaved.map((d) => d.seen));
  });

  it('refuses to warm once a run has stopped mid-tick', () => {
    const detectors = recorders(3);
    const feed = new Feed(hourly, 3);
    feed.run(detectors, 3);
    expect(() => feed.warm(detectors, 2)).not.toThrow();
    feed.run(detectors, 2);
    expect(() => feed.warm(detectors, 2)).toThrow('a run ended mid-tick');
  });

  it('moves time forward for every series through many replays', () => {
    const detectors = recorders(5);
    new Feed(hourly, 5).run(detectors, 5 * 40);
    for (const d of detectors) {
      expect(d.seen).toHaveLength(40);
      for (let i = 1; i < d.seen.length; i++) expect(d.seen[i][1]).toBeGreaterThan(d.seen[i - 1][1]);
    }
  });

  it('keeps the daily phase when the data spans more than a day', () => {
    const threeDays: Series = {
      t: Float64Array.from({ length: 3 * 24 + 5 }, (_, i) => i * 3_600_000),
      values: new Float64Array(3 * 24 + 5),
      source: 'test',
    };
    const [detector] = recorders(1);
    new Feed(threeDays, 1).run([detector], threeDays.t.length + 1);
    const replayed = detector.seen[threeDays.t.length][1];
    expect(replayed % DAY_MS).toBe(0);
    expect(replayed).toBeGreaterThan(threeDays.t[threeDays.t.length - 1]);
  });

  it('refuses a detector list that does not match its series', () => {
    expect(() => new Feed(hourly, 2).run(recorders(3), 1)).toThrow(
      'feed has 2 series but was given 3 detectors',
    );
  });

  it('refuses data too short to replay and a series count below one', () => {
    const single: Series = { t: new Float64Array([0]), values: new Float64Array([1]), source: 'test' };
    expect(() => new Feed(single, 1)).toThrow('at least 2 points');
    expect(() => new Feed(hourly, 0)).toThrow('positive integer');
  });
});
