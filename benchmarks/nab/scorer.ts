/**
 * The Numenta Anomaly Benchmark's scoring, ported from NAB v1.1 (nab/sweeper.py,
 * nab/optimizer.py, the normalisation in nab/runner.py) so that Seismo's scores can be
 * compared with the published scoreboard. Pure: no I/O, no detector.
 *
 * Two things are kept separate because they change at different rates: where each row
 * stands relative to the labelled windows (fixed for a corpus, built once by the
 * constructor) and the detector's anomaly scores (new on every run or tuning trial).
 */

/** How much a caught window earns, a missed window costs and a false alarm costs. */
export interface CostMatrix {
  readonly tpWeight: number;
  readonly fnWeight: number;
  readonly fpWeight: number;
}

/** A labelled anomaly window: both ends included, epoch milliseconds. */
export interface LabelWindow {
  readonly start: number;
  readonly end: number;
}

/** One series as the scorer sees it: row times and the labelled windows, no values. */
export interface LabelledSeries {
  /** `<category>/<file>.csv`; the category is what precedes the first `/`. */
  readonly name: string;
  readonly timestamps: ArrayLike<number>;
  readonly windows: readonly LabelWindow[];
}

export interface WindowCounts {
  /** Windows with at least one detection. */
  tp: number;
  /** Scored windows with none. */
  fn: number;
}

export interface FileScore {
  readonly file: string;
  readonly windows: WindowCounts;
  /** Detections outside every window (rows, as NAB counts them). */
  readonly fp: number;
  readonly raw: number;
}

export interface CategoryScore {
  readonly category: string;
  readonly files: number;
  readonly windows: WindowCounts;
  readonly fp: number;
  readonly raw: number;
}

export interface ProfileScore {
  /** A row is a detection when its anomaly score is >= this; NO_DETECTION means none is. */
  readonly threshold: number;
  readonly raw: number;
  /** 100 * (raw - nullScore) / (perfect - nullScore); NaN when the corpus has no window. */
  readonly normalized: number;
  readonly nullScore: number;
  readonly perfect: number;
  readonly windows: WindowCounts;
  readonly fp: number;
  readonly files: readonly FileScore[];
}

export const PROBATION_PERCENT = 0.15;

/** NAB's sweep starts above every possible score, so that its first threshold detects nothing. */
export const NO_DETECTION = 1.1;

/**
 * NAB's reward curve over a row's position relative to a window's right edge, in window
 * widths: about +0.987 at -1 (the left edge), 0 at the right edge, and towards -1 after
 * it (exactly -1 beyond three widths).
 */
export function scaledSigmoid(position: number): number {
  if (position > 3) return -1;
  return 2 / (1 + Math.exp(5 * position)) - 1;
}

// A detection at a window's left edge earns exactly tpWeight: NAB divides by this.
const MAX_TP = scaledSigmoid(-1);

/** Rows at the start of a series that are never scored: the detector is still learning. */
export function probationLength(rows: number, percent = PROBATION_PERCENT): number {
  return Math.min(Math.floor(percent * rows), percent * 5000);
}

// Row roles in RowLabels.window; values >= 0 index the series' windows.
const PROBATION = -2;
const OUTSIDE = -1;

// Window states while one file is scored at one threshold.
const SCORED = 1;
const DETECTED = 2;

/** Where each row of one series stands, independent of any detector. */
interface RowLabels {
  readonly name: string;
  readonly rows: number;
  readonly probation: number;
  readonly windowCount: number;
  /** PROBATION, OUTSIDE, or the index of the window holding the row. */
  readonly window: Int32Array;
  /**
   * The unweighted score of a detection on this row: in a window, its share of
   * tpWeight; outside, the factor applied to fpWeight (-1 far from any window).
   */
  readonly unit: Float64Array;
}

/**
 * Scores detectors on one labelled corpus. One threshold is chosen per profile for the
 * whole corpus, as NAB does, so a detector's scores must mean the same across files.
 */
export class NabScorer {
  private readonly series: readonly RowLabels[];
  private readonly windowOffset: Int32Array;
  private readonly totalWindows: number;
  private readonly scoredWindows: number;

  constructor(series: readonly LabelledSeries[], probationPercent = PROBATION_PERCENT) {
    if (!(probationPercent >= 0 && probationPercent < 1)) {
      throw new Error(`probationPercent must be in [0, 1), got ${probationPercent}`);
    }
    this.series = series.map((s) => labelRows(s, probationPercent));
    this.windowOffset = new Int32Array(this.series.length + 1);
    let scored = 0;
    this.series.forEach((s, f) => {
      this.windowOffset[f + 1] = this.windowOffset[f] + s.windowCount;
      const seen = new Set<number>();
      for (let i = s.probation; i < s.rows; i++) if (s.window[i] >= 0) seen.add(s.window[i]);
      scored += seen.size;
    });
    this.totalWindows = this.windowOffset[this.series.length];
    this.scoredWindows = scored;
  }

  /** Labelled windows, including any that lie wholly in probation. */
  get windows(): number {
    return this.totalWindows;
  }

  /**
   * The best corpus-wide threshold for each profile, its raw and normalised score, and
   * the per-file breakdown at that threshold. `scores[f]` holds one anomaly score in
   * [0, 1] per row of series `f`, in the order given to the constructor.
   */
  score(
    scores: readonly ArrayLike<number>[],
    profiles: Readonly<Record<string, CostMatrix>>,
  ): Record<string, ProfileScore> {
    this.checkScores(scores);
    const candidates = this.collectScoredRows(scores);
    const order = sortDescending(candidates.score);
    const out: Record<string, ProfileScore> = {};
    for (const [name, cost] of Object.entries(profiles)) {
      checkCost(name, cost);
      out[name] = this.breakdown(scores, cost, this.bestThreshold(candidates, order, cost));
    }
    return out;
  }

  /** Everything `score` reports, at a threshold chosen by the caller. */
  scoreAt(scores: readonly ArrayLike<number>[], cost: CostMatrix, threshold: number): ProfileScore {
    this.checkScores(scores);
    checkCost('given', cost);
    return this.breakdown(scores, cost, threshold);
  }

  private breakdown(scores: readonly ArrayLike<number>[], cost: CostMatrix, threshold: number): ProfileScore {
    const files = this.series.map((s, f) => scoreFile(s, scores[f], cost, threshold));
    const windows = { tp: 0, fn: 0 };
    let fp = 0;
    let raw = 0;
    for (const file of files) {
      windows.tp += file.windows.tp;
      windows.fn += file.windows.fn;
      fp += file.fp;
      raw += file.raw;
    }
    // The null detector's score is NAB's baseline: every scored window missed.
    const nullScore = -cost.fnWeight * this.scoredWindows;
    // NAB counts every labelled window here, even one lying wholly in probation.
    const perfect = cost.tpWeight * this.totalWindows;
    const normalized = perfect === nullScore ? Number.NaN : (100 * (raw - nullScore)) / (perfect - nullScore);
    return { threshold, raw, normalized, nullScore, perfect, windows, fp, files };
  }

  /**
   * NAB's calcScoreByThreshold: walk the rows from the highest anomaly score down,
   * keeping the total score of "detect when score >= current" up to date, and keep the
   * best. Ties go to the higher threshold, as NAB's stable sort of the sweep does.
   */
  private bestThreshold(rows: ScoredRows, order: Uint32Array, cost: CostMatrix): number {
    const credit = new Float64Array(this.totalWindows).fill(-cost.fnWeight);
    const tpScale = cost.tpWeight;
    let total = -cost.fnWeight * this.scoredWindows;
    let best = total;
    let bestThreshold = NO_DETECTION;
    let k = 0;
    while (k < order.length) {
      const threshold = rows.score[order[k]];
      for (; k < order.length && rows.score[order[k]] === threshold; k++) {
        const r = order[k];
        const w = rows.window[r];
        if (w < 0) {
          total += cost.fpWeight * rows.unit[r];
        } else {
          const earned = tpScale * rows.unit[r];
          // Only a window's best detection counts, which is its earliest one.
          if (earned > credit[w]) {
            total += earned - credit[w];
            credit[w] = earned;
          }
        }
      }
      if (total > best) {
        best = total;
        bestThreshold = threshold;
      }
    }
    return bestThreshold;
  }

  /** The rows that count (probation dropped), flattened across series. */
  private collectScoredRows(scores: readonly ArrayLike<number>[]): ScoredRows {
    let n = 0;
    for (const s of this.series) n += s.rows - s.probation;
    const rows: ScoredRows = {
      score: new Float64Array(n),
      unit: new Float64Array(n),
      window: new Int32Array(n),
    };
    let r = 0;
    this.series.forEach((s, f) => {
      const values = scores[f];
      const offset = this.windowOffset[f];
      for (let i = s.probation; i < s.rows; i++, r++) {
        rows.score[r] = values[i];
        rows.unit[r] = s.unit[i];
        rows.window[r] = s.window[i] >= 0 ? offset + s.window[i] : OUTSIDE;
      }
    });
    return rows;
  }

  private checkScores(scores: readonly ArrayLike<number>[]): void {
    if (scores.length !== this.series.length) {
      throw new Error(`expected anomaly scores for ${this.series.length} series, got ${scores.length}`);
    }
    this.series.forEach((s, f) => {
      const values = scores[f];
      if (values.length !== s.rows) {
        throw new Error(`${s.name}: ${values.length} anomaly scores for ${s.rows} rows`);
      }
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (!(v >= 0 && v <= 1)) {
          throw new Error(`${s.name}: anomaly score of row ${i} is ${v}; it must be in [0, 1]`);
        }
      }
    });
  }
}

/** Sums file scores per category (the part of the name before the first `/`). */
export function categoryScores(files: readonly FileScore[]): CategoryScore[] {
  const byName = new Map<string, { files: number; windows: WindowCounts; fp: number; raw: number }>();
  for (const file of files) {
    const category = categoryOf(file.file);
    const c = byName.get(category) ?? { files: 0, windows: { tp: 0, fn: 0 }, fp: 0, raw: 0 };
    c.files++;
    c.windows.tp += file.windows.tp;
    c.windows.fn += file.windows.fn;
    c.fp += file.fp;
    c.raw += file.raw;
    byName.set(category, c);
  }
  return [...byName.entries()].map(([category, c]) => ({ category, ...c }));
}

interface ScoredRows {
  readonly score: Float64Array;
  readonly unit: Float64Array;
  readonly window: Int32Array;
}

/**
 * NAB's calcSweepScore, minus the weights. A window runs from the first row stamped
 * with its start to the first row stamped with its end (NAB's `timestamps.index`), so
 * a repeated end stamp puts the repeats outside it, and widths are counted in rows.
 */
function labelRows(series: LabelledSeries, probationPercent: number): RowLabels {
  const { name, timestamps, windows } = series;
  const rows = timestamps.length;
  const first = new Map<number, number>();
  for (let i = 0; i < rows; i++) if (!first.has(timestamps[i])) first.set(timestamps[i], i);

  const left = new Int32Array(windows.length);
  const right = new Int32Array(windows.length);
  windows.forEach((w, k) => {
    const where = `${name}: window ${k} [${iso(w.start)}, ${iso(w.end)}]`;
    const l = first.get(w.start);
    const r = first.get(w.end);
    if (l === undefined) throw new Error(`${where}: its start is not the timestamp of any row`);
    if (r === undefined) throw new Error(`${where}: its end is not the timestamp of any row`);
    if (r < l) throw new Error(`${where}: its end comes before its start`);
    // NAB only ever looks for the next window's start, so windows must be ordered and apart.
    if (k > 0 && l <= right[k - 1]) throw new Error(`${where}: it overlaps or precedes window ${k - 1}`);
    left[k] = l;
    right[k] = r;
  });

  const probation = probationLength(rows, probationPercent);
  const window = new Int32Array(rows);
  const unit = new Float64Array(rows);
  let next = 0;
  let current = -1;
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < rows; i++) {
    if (current < 0 && next < windows.length && i === left[next]) current = next++;
    if (current >= 0) {
      const width = right[current] - left[current] + 1;
      unit[i] = scaledSigmoid(-(right[current] - i + 1) / width) / MAX_TP;
      window[i] = current;
    } else {
      if (prevRight < 0) {
        unit[i] = -1;
      } else if (prevWidth === 1) {
        throw new Error(`${name}: window ${next - 1} spans one row; NAB's sweeper divides by zero after it`);
      } else {
        unit[i] = scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1));
      }
      window[i] = OUTSIDE;
    }
    if (i < probation) window[i] = PROBATION;
    if (current >= 0 && i === right[current]) {
      prevRight = i;
      prevWidth = right[current] - left[current] + 1;
      current = -1;
    }
  }
  return {
    name,
    rows,
    probation: Math.min(rows, Math.ceil(probation)),
    windowCount: windows.length,
    window,
    unit,
  };
}

function scoreFile(s: RowLabels, scores: ArrayLike<number>, cost: CostMatrix, threshold: number): FileScore {
  // Per window: 0 while no scored row has been seen, then SCORED, then DETECTED.
  const state = new Uint8Array(s.windowCount);
  const best = new Float64Array(s.windowCount);
  let fp = 0;
  let raw = 0;
  for (let i = s.probation; i < s.rows; i++) {
    const w = s.window[i];
    const detected = scores[i] >= threshold;
    if (w === OUTSIDE) {
      if (detected) {
        fp++;
        raw += cost.fpWeight * s.unit[i];
      }
    } else if (detected) {
      const earned = cost.tpWeight * s.unit[i];
      if (state[w] !== DETECTED || earned > best[w]) best[w] = earned;
      state[w] = DETECTED;
    } else if (state[w] === 0) {
      state[w] = SCORED;
    }
  }
  const windows = { tp: 0, fn: 0 };
  for (let w = 0; w < s.windowCount; w++) {
    if (state[w] === DETECTED) {
      windows.tp++;
      raw += Math.max(best[w], -cost.fnWeight);
    } else if (state[w] === SCORED) {
      windows.fn++;
      raw -= cost.fnWeight;
    }
  }
  return { file: s.name, windows, fp, raw };
}

function sortDescending(values: Float64Array): Uint32Array {
  const order = new Uint32Array(values.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => values[b] - values[a]);
}

function checkCost(profile: string, cost: CostMatrix): void {
  for (const field of ['tpWeight', 'fnWeight', 'fpWeight'] as const) {
    const v = cost[field];
    if (!(Number.isFinite(v) && v >= 0)) {
      throw new Error(`profile ${profile}: ${field} must be a finite number >= 0, got ${v}`);
    }
  }
}

function categoryOf(name: string): string {
  const slash = name.indexOf('/');
  return slash < 0 ? '' : name.slice(0, slash);
}

function iso(t: number): string {
  return Number.isFinite(t) ? new Date(t).toISOString() : String(t);
}
