import { type AlertReplay, type ReplayedAlert } from './alert-replay';
import { tallyFile, totalOf, windowOf } from './feedback-tally';

function replay(
  windows: number[],
  suppressed = 0,
  labels = { falsePositive: 0, truePositive: 0 },
): AlertReplay {
  const alerts: ReplayedAlert[] = windows.map((window, i) => ({
    state: 'opened',
    at: i,
    anomalyId: `a${i}`,
    anomalyTs: i,
    score: 0.6,
    window,
  }));
  return { alerts, suppressed, labels };
}

describe('windowOf', () => {
  const windows = [
    { start: 10, end: 20 },
    { start: 30, end: 40 },
    { start: 50, end: 50 },
  ];

  it('finds the window holding a time, both ends included', () => {
    expect([9, 10, 15, 20, 21, 29, 30, 40, 45, 50, 51].map((t) => windowOf(windows, t))).toEqual([
      -1, 0, 0, 0, -1, -1, 1, 1, -1, 2, -1,
    ]);
    expect(windowOf([], 10)).toBe(-1);
  });
});

describe('tallyFile', () => {
  it('counts alerts in and out of windows, the false positives removed and the windows lost', () => {
    const without = replay([-1, -1, 0, 0, 1]);
    const withFeedback = replay([-1, 0], 3, { falsePositive: 1, truePositive: 1 });
    expect(tallyFile('a/b.csv', 3, 6, without, withFeedback)).toEqual({
      name: 'a/b.csv',
      windows: 3,
      anomalies: 6,
      withoutFeedback: { alerts: 5, tp: 3, fp: 2, windowsDetected: 2 },
      withFeedback: {
        alerts: 2,
        tp: 1,
        fp: 1,
        windowsDetected: 1,
        suppressed: 3,
        labels: { falsePositive: 1, truePositive: 1 },
      },
      fpRemoved: 1,
      fpRemovedPercent: 50,
      tpRemoved: 2,
      windowsLost: 1,
      windowsGained: 0,
    });
  });

  it('counts a window found only with feedback as gained, and has no percentage without false positives', () => {
    const tally = tallyFile('a/b.csv', 2, 1, replay([0]), replay([1]));
    expect([tally.windowsLost, tally.windowsGained, tally.fpRemovedPercent]).toEqual([1, 1, null]);
  });
});

describe('totalOf', () => {
  it('sums the files and takes the percentage over the sums', () => {
    const a = tallyFile(
      'a',
      1,
      4,
      replay([-1, -1, -1, 0]),
      replay([0], 3, { falsePositive: 3, truePositive: 1 }),
    );
    const b = tallyFile('b', 2, 2, replay([-1, 1]), replay([-1], 1, { falsePositive: 1, truePositive: 0 }));
    const total = totalOf([a, b]);
    expect(total).toEqual({
      windows: 3,
      anomalies: 6,
      withoutFeedback: { alerts: 6, tp: 2, fp: 4, windowsDetected: 2 },
      withFeedback: {
        alerts: 2,
        tp: 1,
        fp: 1,
        windowsDetected: 1,
        suppressed: 4,
        labels: { falsePositive: 4, truePositive: 1 },
      },
      fpRemoved: 3,
      fpRemovedPercent: 75,
      tpRemoved: 1,
      windowsLost: 1,
      windowsGained: 0,
    });
    expect(totalOf([]).fpRemovedPercent).toBeNull();
  });
});
