import { ReplayTimeline } from './replay.timeline';

const HOUR = 3_600_000;
const NAB_START = Date.UTC(2014, 3, 1);
const NOW = Date.UTC(2026, 10, 23, 12);

describe('ReplayTimeline', () => {
  it('at speed max, lays the file out ending now, spacing kept, everything due at once', () => {
    const timeline = new ReplayTimeline(NAB_START, NAB_START + 48 * HOUR, Infinity, NOW);
    expect(timeline.timestampOf(NAB_START + 48 * HOUR)).toBe(NOW);
    expect(timeline.timestampOf(NAB_START)).toBe(NOW - 48 * HOUR);
    expect(timeline.timestampOf(NAB_START + HOUR) - timeline.timestampOf(NAB_START)).toBe(HOUR);
    expect(timeline.dueAt(NAB_START)).toBe(NOW);
    expect(timeline.dueAt(NAB_START + 48 * HOUR)).toBe(NOW);
  });

  it('at speed 1, is live: each point is stamped with the instant it is due', () => {
    const timeline = new ReplayTimeline(NAB_START, NAB_START + 10 * HOUR, 1, NOW);
    for (const offset of [0, HOUR, 10 * HOUR]) {
      expect(timeline.timestampOf(NAB_START + offset)).toBe(NOW + offset);
      expect(timeline.dueAt(NAB_START + offset)).toBe(NOW + offset);
    }
  });

  it('at speed X, plays X times faster, ending at the instant the last point is due, none ahead of its send time', () => {
    const timeline = new ReplayTimeline(NAB_START, NAB_START + 60 * HOUR, 60, NOW);
    expect(timeline.dueAt(NAB_START + 60 * HOUR)).toBe(NOW + HOUR);
    expect(timeline.timestampOf(NAB_START + 60 * HOUR)).toBe(NOW + HOUR);
    expect(timeline.timestampOf(NAB_START + 30 * HOUR) - timeline.timestampOf(NAB_START)).toBe(30 * HOUR);
    for (let offset = 0; offset <= 60 * HOUR; offset += HOUR) {
      expect(timeline.timestampOf(NAB_START + offset)).toBeLessThanOrEqual(
        timeline.dueAt(NAB_START + offset),
      );
    }
  });

  it('takes a file of one point, and refuses a speed that is not above 0', () => {
    expect(new ReplayTimeline(NAB_START, NAB_START, 5, NOW).timestampOf(NAB_START)).toBe(NOW);
    expect(() => new ReplayTimeline(NAB_START, NAB_START, 0, NOW)).toThrow(/speed/);
    expect(() => new ReplayTimeline(NAB_START, NAB_START, Number.NaN, NOW)).toThrow(/speed/);
  });
});
