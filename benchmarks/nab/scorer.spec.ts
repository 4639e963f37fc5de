import {
  categoryScores,
  type CostMatrix,
  type LabelledSeries,
  NabScorer,
  NO_DETECTION,
  probationLength,
} from './scorer';

const STEP = 5 * 60_000;
const T0 = Date.UTC(2024, 0, 1);
const STANDARD: CostMatrix = { tpWeight: 1, fnWeight: 1, fpWeight: 0.11 };
const PROFILES = {
  standard: STANDARD,
  reward_low_FP_rate: { tpWeight: 1, fnWeight: 1, fpWeight: 0.22 },
  reward_low_FN_rate: { tpWeight: 1, fnWeight: 2, fpWeight: 0.11 },
};

/** Rows every 5 minutes; windows given as [first row, last row]. */
function series(name: string, rows: number, windows: Array<[number, number]>): LabelledSeries {
  const timestamps = Array.from({ length: rows }, (_, i) => T0 + i * STEP);
  return {
    name,
    timestamps,
    windows: windows.map(([l, r]) => ({ start: timestamps[l], end: timestamps[r] })),
  };
}

/** Anomaly scores of 0 except at the given rows. */
function detections(rows: number, at: Record<number, number>): Float64Array {
  const s = new Float64Array(rows);
  for (const [row, score] of Object.entries(at)) s[Number(row)] = score;
  return s;
}

// A 100-row file with one 10-row window on rows 40..49, scored without probation so
// row indices are the positions NAB's formulas see.
const ONE_WINDOW = series('cat/one.csv', 100, [[40, 49]]);
const NO_PROBATION = 0;

function scoreOne(at: Record<number, number>, cost = STANDARD) {
  return new NabScorer([ONE_WINDOW], NO_PROBATION).scoreAt([detections(100, at)], cost, 0.5);
}

describe('NabScorer, one file at a fixed threshold', () => {
  it('gives exactly tpWeight for a detection on the first row of a window', () => {
    const r = scoreOne({ 40: 1 });
    expect(r.raw).toBe(1);
    expect(r.windows).toEqual({ tp: 1, fn: 0 });
    expect(r.fp).toBe(0);
  });

  it('gives little for a detection on the last row: sigmoid(-1/width) over sigmoid(-1)', () => {
    // (2 / (1 + e^-0.5) - 1) / (2 / (1 + e^-5) - 1), worked by hand.
    expect(scoreOne({ 49: 1 }).raw).toBeCloseTo(0.248242, 6);
  });

  it('counts only the earliest detection in a window; later ones are free', () => {
    // Row 42 sits 8 rows from the right edge: sigmoid(-0.8) / sigmoid(-1).
    expect(scoreOne({ 42: 1, 45: 1, 49: 1 }).raw).toBeCloseTo(0.977107, 6);
    expect(scoreOne({ 42: 1, 45: 1, 49: 1 }).windows).toEqual({ tp: 1, fn: 0 });
  });

  it('charges a full fpWeight for a false positive before any window, plus the missed window', () => {
    const r = scoreOne({ 10: 1 });
    expect(r.raw).toBeCloseTo(-1.11, 12);
    expect(r.fp).toBe(1);
    expect(r.windows).toEqual({ tp: 0, fn: 1 });
  });

  it('charges little for a false positive just after a window, the full cost three widths on', () => {
    // Row 50 is 1 row past the right edge; NAB divides by width - 1 = 9: 0.11 * sigmoid(1/9).
    expect(scoreOne({ 50: 1 }).raw).toBeCloseTo(-1 - 0.029793, 6);
    // Row 77 is 28 rows past: 28 / 9 > 3, so the full cost.
    expect(scoreOne({ 77: 1 }).raw).toBeCloseTo(-1.11, 12);
  });

  it("reproduces NAB's own sweeper test (testScoringAllMetrics): -0.9540", () => {
    // 100 rows, two 5-row windows at rows 30..34 and 65..69, detections at 30, 31 and 37, all weights 1.
    const s = series('cat/nab.csv', 100, [
      [30, 34],
      [65, 69],
    ]);
    const cost = { tpWeight: 1, fnWeight: 1, fpWeight: 1 };
    const r = new NabScorer([s], NO_PROBATION).scoreAt([detections(100, { 30: 1, 31: 1, 37: 1 })], cost, 0.5);
    expect(r.raw).toBeCloseTo(-0.954, 4);
    expect(r.windows).toEqual({ tp: 1, fn: 1 });
    expect(r.fp).toBe(1);
  });
});

describe('probation', () => {
  it('is 15% of the rows, floored, and never more than 750', () => {
    expect(probationLength(100)).toBe(15);
    expect(probationLength(1243)).toBe(186);
    expect(probationLength(10_000)).toBe(750);
  });

  it('ignores detections in the first 15% of rows and counts the next one', () => {
    const scorer = new NabScorer([ONE_WINDOW]);
    expect(scorer.scoreAt([detections(100, { 14: 1 })], STANDARD, 0.5).raw).toBe(-1);
    expect(scorer.scoreAt([detections(100, { 15: 1 })], STANDARD, 0.5).raw).toBeCloseTo(-1.11, 12);
  });

  it('neither rewards nor charges a window lying wholly in probation, but measures later FPs from it', () => {
    // Window on rows 5..10 (width 6), probation 15 rows. A detection on row 16 is an FP
    // 6 rows after that window: 0.11 * sigmoid(6 / 5).
    const s = series('cat/early.csv', 100, [[5, 10]]);
    const scorer = new NabScorer([s]);
    const none = scorer.scoreAt([detections(100, {})], STANDARD, 0.5);
    expect(none.raw).toBe(0);
    expect(none.windows).toEqual({ tp: 0, fn: 0 });
    expect(scorer.scoreAt([detections(100, { 7: 1, 16: 1 })], STANDARD, 0.5).raw).toBeCloseTo(-0.109456, 6);
  });
});

describe('repeated timestamps', () => {
  // 20 rows; row `dup` carries the same timestamp as the row before it.
  function withRepeat(dup: number, window: [number, number]): LabelledSeries {
    const timestamps: number[] = [];
    for (let i = 0, t = T0; i < 20; i++) {
      if (i !== dup) t += STEP;
      timestamps.push(t);
    }
    return {
      name: 'cat/dup.csv',
      timestamps,
      windows: [{ start: timestamps[window[0]], end: timestamps[window[1]] }],
    };
  }

  it('ends a window at the first row carrying its end stamp; the repeat is outside', () => {
    // Rows 11 and 12 share the end stamp: the window is rows 8..11 (width 4), row 12 is an
    // FP one row after it: 0.11 * sigmoid(1 / 3).
    const s = withRepeat(12, [8, 11]);
    const r = new NabScorer([s], NO_PROBATION).scoreAt([detections(20, { 12: 1 })], STANDARD, 0.5);
    expect(r.fp).toBe(1);
    expect(r.raw).toBeCloseTo(-1 - 0.075049, 6);
  });

  it('measures window width in rows, so a repeat inside a window widens it', () => {
    // Rows 9 and 10 share a stamp: the window 8..11 holds 4 rows. Row 9: sigmoid(-3/4) / sigmoid(-1).
    const s = withRepeat(10, [8, 11]);
    const r = new NabScorer([s], NO_PROBATION).scoreAt([detections(20, { 9: 1 })], STANDARD, 0.5);
    expect(r.raw).toBeCloseTo(0.966989, 6);
  });
});

describe('threshold sweep', () => {
  it('picks the threshold with the best total, and the higher of two that tie', () => {
    // 0.9: a far FP (-0.11). 0.6: the window caught mid-way, sigmoid(-0.5) / sigmoid(-1) = 0.859793.
    // 0.5: a later row of the same window, which adds nothing (tie). 0.3: ten FPs after the window.
    const at: Record<number, number> = { 10: 0.9, 45: 0.6, 47: 0.5 };
    for (let i = 60; i < 70; i++) at[i] = 0.3;
    const r = new NabScorer([ONE_WINDOW], NO_PROBATION).score([detections(100, at)], PROFILES);
    expect(r.standard.threshold).toBe(0.6);
    expect(r.standard.raw).toBeCloseTo(0.859793 - 0.11, 6);
    expect(r.reward_low_FN_rate.threshold).toBe(0.6);
  });

  it('detects nothing when every threshold does worse than missing every window', () => {
    const r = new NabScorer([ONE_WINDOW], NO_PROBATION).score(
      [detections(100, { 10: 0.9, 20: 0.8 })],
      PROFILES,
    );
    expect(r.standard.threshold).toBe(NO_DETECTION);
    expect(r.standard.raw).toBe(-1);
    expect(r.standard.fp).toBe(0);
  });

  it('chooses one threshold for the whole corpus, not the best one per file', () => {
    // Alone, A is best at 0.8 (+1) and B at 0.4 (+1 - 0.33). Together: 0.8 gives 1 - 1 = 0,
    // 0.6 gives 1 - 1.33, 0.5 gives 0.78 - 1.33, 0.4 gives 0.78 + 0.67 = 1.45.
    const a = series('cat/a.csv', 100, [[40, 49]]);
    const b = series('cat/b.csv', 100, [[40, 49]]);
    const scorer = new NabScorer([a, b], NO_PROBATION);
    const r = scorer.score(
      [
        detections(100, { 40: 0.8, 10: 0.5, 11: 0.5 }),
        detections(100, { 40: 0.4, 20: 0.6, 21: 0.6, 22: 0.6 }),
      ],
      { standard: STANDARD },
    ).standard;
    expect(r.threshold).toBe(0.4);
    expect(r.raw).toBeCloseTo(1.45, 12);
    expect(r.files.map((f) => [f.file, f.fp, Number(f.raw.toFixed(6))])).toEqual([
      ['cat/a.csv', 2, 0.78],
      ['cat/b.csv', 3, 0.67],
    ]);
  });
});

describe('normalisation', () => {
  const files = [
    series('x/a.csv', 200, [
      [60, 69],
      [120, 139],
    ]),
    series('y/b.csv', 150, [[90, 99]]),
  ];
  const scorer = new NabScorer(files);

  it('scores the null detector (all zeros) 0 under every profile', () => {
    const r = scorer.score([new Float64Array(200), new Float64Array(150)], PROFILES);
    for (const p of Object.values(r)) expect(p.normalized).toBe(0);
    expect(r.reward_low_FN_rate.nullScore).toBe(-6);
  });

  it('scores a detector that fires on every window start and nowhere else 100', () => {
    const r = scorer.score([detections(200, { 60: 1, 120: 1 }), detections(150, { 90: 1 })], PROFILES);
    for (const p of Object.values(r)) expect(p.normalized).toBeCloseTo(100, 10);
    expect(r.standard.windows).toEqual({ tp: 3, fn: 0 });
    expect(scorer.windows).toBe(3);
  });

  it('sums files by category', () => {
    // Row 40 of x/a.csv is past its 30-row probation and before its first window.
    const r = scorer.scoreAt([detections(200, { 60: 1, 40: 1 }), detections(150, {})], STANDARD, 0.5);
    expect(categoryScores(r.files)).toEqual([
      { category: 'x', files: 1, windows: { tp: 1, fn: 1 }, fp: 1, raw: expect.closeTo(1 - 1 - 0.11, 12) },
      { category: 'y', files: 1, windows: { tp: 0, fn: 1 }, fp: 0, raw: -1 },
    ]);
  });
});

describe('input checks', () => {
  const scorer = new NabScorer([ONE_WINDOW]);

  it('refuses a score outside [0, 1], naming the file and row', () => {
    expect(() => scorer.score([detections(100, { 7: 1.5 })], PROFILES)).toThrow(/cat\/one\.csv.*row 7.*1\.5/);
    expect(() => scorer.score([detections(100, { 8: Number.NaN })], PROFILES)).toThrow(/row 8.*NaN/);
  });

  it('refuses scores whose count differs from the rows', () => {
    expect(() => scorer.score([new Float64Array(99)], PROFILES)).toThrow(
      /cat\/one\.csv: 99 anomaly scores for 100 rows/,
    );
  });

  it('refuses a window whose start is not a row of the series', () => {
    const bad = { ...ONE_WINDOW, windows: [{ start: T0 + 1, end: T0 + 40 * STEP }] };
    expect(() => new NabScorer([bad])).toThrow(
      /cat\/one\.csv: window 0 .*start is not the timestamp of any row/,
    );
  });

  it('refuses windows out of order', () => {
    const s = series('cat/order.csv', 100, [
      [60, 69],
      [40, 49],
    ]);
    expect(() => new NabScorer([s])).toThrow(/window 1 .*overlaps or precedes window 0/);
  });
});
