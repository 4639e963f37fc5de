/**
 * Period detection for seasonal models: the autocorrelation rule of TSB-UAD's
 * `find_length`, made safe for streams (bounded input, irregular timestamps), strict
 * about saying "no period" (a seasonal model fitted to a cycle that is not there
 * turns ordinary wander into false alarms), and precise, because a baseline keyed by
 * phase turns any error in the period into a drift that grows every cycle.
 */

export interface PeriodSearch {
  /** Shortest lag considered, in samples. TSB-UAD starts at 3. */
  readonly minLag: number;
  /**
   * Longest lag considered, in samples; never more than 0.4 of the input, so a cycle
   * has shown itself at least two and a half times. Allowing two lets through twice
   * as many random walks (8 in 200 where 0.4 lets 4).
   */
  readonly maxLag: number;
  /**
   * Autocorrelation the chosen peak must reach, in both passes. White noise of n
   * samples has ACF peaks around 3/sqrt(n) (0.19 at n = 256), and a detrended random
   * walk's slow swings reach 0.2 to 0.3 at long lags.
   */
  readonly minCorrelation: number;
  /**
   * How far a peak must rise above the lowest ACF before it. Noise bumps on the ACF's
   * flat first descent rise a hundredth or two; a daily cycle riding on a weekly swing
   * (NAB's ambient temperature, sampled hourly, blocked to 4 hours) rises 0.05.
   */
  readonly minProminence: number;
  /**
   * A peak within this fraction of the highest one wins if it comes first. A cycle
   * repeats at every multiple of its period, and a multiple can correlate a little
   * better than the cycle itself; taking the first strong peak finds the cycle.
   */
  readonly harmonicTolerance: number;
}

export const DEFAULT_PERIOD_SEARCH: PeriodSearch = {
  minLag: 3,
  maxLag: Number.POSITIVE_INFINITY,
  minCorrelation: 0.3,
  minProminence: 0.05,
  harmonicTolerance: 0.8,
};

/** Enough cycles for their multiples to pin the period; with fewer, a sinusoid fit does. */
const CYCLES_FOR_MULTIPLES = 4;

/**
 * The dominant period of evenly spaced `samples`, in samples (fractional), or 0 when
 * the series has none.
 *
 * First pass, TSB-UAD's rule made strict: after removing the least-squares line (a
 * trend correlates with itself at every lag and buries the cycle), the first local
 * maximum of the (biased, statsmodels-style) ACF in [minLag, maxLag] that reaches
 * `minCorrelation`, rises `minProminence` above the ACF's lowest point before it, and
 * comes within `harmonicTolerance` of the highest such peak. Where TSB-UAD falls back
 * to a fixed 125 when nothing qualifies, this returns 0: a stream's baseline must know
 * when there is no cycle to model.
 *
 * Second pass: whatever varies slower than a cycle (a weekly swing under a daily
 * cycle, a random walk's wander) adds a decaying hump to the ACF that drags its peaks
 * towards shorter lags, by 10% on NAB's temperature series. Subtracting a moving
 * average one cycle wide removes it and leaves the cycle (which averages to a constant
 * over its own length); the peak is looked for again near the first, and must again
 * reach `minCorrelation`, which also turns away most of a random walk's bumps.
 *
 * Last, the period is refined: from the peaks at its multiples when the input holds
 * at least CYCLES_FOR_MULTIPLES cycles, else by fitting a sinusoid to the whole input.
 */
export function findPeriod(samples: ArrayLike<number>, options: Partial<PeriodSearch> = {}): number {
  const search = { ...DEFAULT_PERIOD_SEARCH, ...options };
  const n = samples.length;
  const minLag = Math.max(2, Math.ceil(search.minLag));
  const maxLag = Math.min(Math.floor(search.maxLag), Math.floor(0.4 * n));
  if (maxLag <= minLag) return 0;
  const x = detrend(samples);
  if (!x) return 0;

  const acf = autocorrelation(x, Math.floor(n / 2));
  const qualifies = new Uint8Array(maxLag + 1);
  let best = 0;
  let trough = acf[minLag - 1];
  for (let k = minLag; k <= maxLag; k++) {
    trough = Math.min(trough, acf[k]);
    if (isPeak(acf, k) && acf[k] >= search.minCorrelation && acf[k] - trough >= search.minProminence) {
      qualifies[k] = 1;
      best = Math.max(best, acf[k]);
    }
  }
  let first = 0;
  for (let k = minLag; k <= maxLag && first === 0; k++) {
    if (qualifies[k] && acf[k] >= search.harmonicTolerance * best) first = k;
  }
  if (first === 0) return 0;
  // On a noisy ACF one peak is a cluster of wiggles: take the cluster's top.
  const coarse = highestPeak(acf, first, first, Math.floor(1.2 * first));

  const to = Math.ceil(1.2 * coarse);
  const fast = autocorrelation(withoutMovingAverage(x, coarse), Math.min(n - 2, Math.max(to, n / 2)));
  const peak = highestPeak(fast, 0, Math.max(minLag, Math.floor(0.8 * coarse)), to);
  if (peak === 0 || fast[peak] < search.minCorrelation) return 0;
  return n / peak >= CYCLES_FOR_MULTIPLES
    ? refineByMultiples(fast, n, peak)
    : bestSinusoidPeriod(x, 0.8 * peak, 1.25 * peak);
}

/** The lag of the highest local maximum of `acf` in [from, to], or `fallback` if there is none. */
function highestPeak(acf: Float64Array, fallback: number, from: number, to: number): number {
  let peak = fallback;
  for (let k = Math.max(1, from); k <= Math.min(to, acf.length - 2); k++) {
    if (isPeak(acf, k) && (peak === 0 || acf[k] > acf[peak])) peak = k;
  }
  return peak;
}

/**
 * Biased autocorrelation (sum over the overlap, divided by the total energy) of a
 * centred series, at lags 0 to `lastLag` plus one: the extra lag lets a peak at the
 * last lag be told from a rise that continues.
 */
function autocorrelation(x: Float64Array, lastLag: number): Float64Array {
  const n = x.length;
  const acf = new Float64Array(Math.floor(lastLag) + 2);
  let energy = 0;
  for (let i = 0; i < n; i++) energy += x[i] * x[i];
  if (!(energy > 0)) return acf;
  for (let k = 0; k < acf.length; k++) {
    let sum = 0;
    for (let i = 0; i + k < n; i++) sum += x[i] * x[i + k];
    acf[k] = sum / energy;
  }
  return acf;
}

/**
 * x minus its centred moving average of `width` samples, the window cut short at the
 * ends rather than the series: a warm-up of under four cycles has no length to spare.
 */
function withoutMovingAverage(x: Float64Array, width: number): Float64Array {
  const n = x.length;
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + x[i];
  const out = new Float64Array(n);
  const before = Math.floor(width / 2);
  for (let i = 0; i < n; i++) {
    const from = Math.max(0, i - before);
    const to = Math.min(n, i - before + width);
    out[i] = x[i] - (prefix[to] - prefix[from]) / (to - from);
  }
  return out;
}

/**
 * The period from the ACF peak at `first`, sharpened by the cycle's later peaks: a
 * peak's position is known to a fraction of a lag, so the m-th multiple pins the
 * period m times more finely. Each step looks for the next multiple near where the
 * estimate so far puts it, and stops at the first one that has faded to less than
 * half what a repeating cycle would show there (the biased ACF shrinks by (n - k) / n
 * even for a perfect one).
 */
function refineByMultiples(acf: Float64Array, n: number, first: number): number {
  const lastLag = acf.length - 2;
  let period = first + vertexOffset(acf, n, first, first);
  // Close enough to catch the multiple, too close to reach a neighbouring one.
  const reach = Math.max(1, Math.floor(0.1 * period));
  for (let m = 2; ; m++) {
    const expected = Math.round(m * period);
    if (expected + reach > lastLag) break;
    const k = highestPeak(acf, 0, expected - reach, expected + reach);
    if (k === 0 || acf[k] < (0.5 * acf[first] * (n - k)) / (n - first)) break;
    period = (k + vertexOffset(acf, n, k, period)) / m;
  }
  return period;
}

/**
 * Where the ACF's peak near lag `k` really is, relative to k: the vertex of a
 * least-squares parabola over an eighth of a period either side, after undoing the
 * biased ACF's (n - lag) / n taper, which would pull it to shorter lags. Three points
 * would do on a clean ACF; on a noisy one their curvature is mostly noise, and a
 * wider, symmetric fit averages it out without pulling a symmetric peak either way.
 */
function vertexOffset(acf: Float64Array, n: number, k: number, period: number): number {
  const half = Math.max(1, Math.min(Math.round(period / 8), k - 1, acf.length - 1 - k));
  let sy = 0;
  let sjy = 0;
  let sjjy = 0;
  let sjj = 0;
  let sjjjj = 0;
  for (let j = -half; j <= half; j++) {
    const y = (acf[k + j] * n) / (n - k - j);
    sy += y;
    sjy += j * y;
    sjjy += j * j * y;
    sjj += j * j;
    sjjjj += j * j * j * j;
  }
  // With j symmetric about 0, y = a j^2 + b j + c splits: b from the odd moment alone,
  // a from the even ones with the constant taken out.
  const count = 2 * half + 1;
  const b = sjy / sjj;
  const a = (sjjy - (sjj * sy) / count) / (sjjjj - (sjj * sjj) / count);
  return a < 0 ? Math.max(-half, Math.min(half, -b / (2 * a))) : 0;
}

/**
 * The period in [shortest, longest] of the sinusoid that fits `x` best by least
 * squares (a Lomb-Scargle periodogram, on even samples). With two or three cycles in
 * the input, an ACF peak is pulled several percent short by the edges of the overlap
 * it sums over; a fit over the whole input has no such edge. A grid a quarter of the
 * periodogram's resolution fine (1 / 4n in frequency) cannot step over the main lobe;
 * three zooms then pin it.
 */
function bestSinusoidPeriod(x: Float64Array, shortest: number, longest: number): number {
  const n = x.length;
  let low = 1 / longest;
  let high = 1 / shortest;
  let best = (low + high) / 2;
  for (let round = 0, steps = Math.max(16, Math.ceil((high - low) * 4 * n)); round < 4; round++, steps = 8) {
    let bestPower = -1;
    const step = (high - low) / steps;
    for (let i = 0; i <= steps; i++) {
      const frequency = low + i * step;
      const power = sinusoidPower(x, frequency);
      if (power > bestPower) {
        bestPower = power;
        best = frequency;
      }
    }
    low = Math.max(low, best - step);
    high = Math.min(high, best + step);
  }
  return 1 / best;
}

/** How much of x's energy the best sinusoid of `frequency` (cycles per sample) explains. */
function sinusoidPower(x: Float64Array, frequency: number): number {
  const w = 2 * Math.PI * frequency;
  // cos and sin of w i by rotation, instead of two library calls per sample.
  const dc = Math.cos(w);
  const ds = Math.sin(w);
  let c = 1;
  let s = 0;
  let xc = 0;
  let xs = 0;
  let cc = 0;
  let ss = 0;
  let cs = 0;
  for (let i = 0; i < x.length; i++) {
    xc += x[i] * c;
    xs += x[i] * s;
    cc += c * c;
    ss += s * s;
    cs += c * s;
    const next = c * dc - s * ds;
    s = s * dc + c * ds;
    c = next;
  }
  // [xc xs] G^-1 [xc xs]^T, with G the Gram matrix of the cosine and sine columns.
  const det = cc * ss - cs * cs;
  return det > 0 ? (ss * xc * xc - 2 * cs * xc * xs + cc * xs * xs) / det : 0;
}

function isPeak(acf: Float64Array, k: number): boolean {
  return acf[k] > acf[k - 1] && acf[k] >= acf[k + 1];
}

/**
 * The samples minus their least-squares line, scaled to at most 1 in magnitude (so
 * squares cannot overflow whatever the units), or undefined if nothing is left: a
 * constant, a straight line, or non-finite input.
 */
function detrend(samples: ArrayLike<number>): Float64Array | undefined {
  const n = samples.length;
  let peak = 0;
  for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(samples[i]));
  if (!(peak > 0 && Number.isFinite(peak))) return undefined;
  const x = new Float64Array(n);
  let mean = 0;
  for (let i = 0; i < n; i++) {
    x[i] = samples[i] / peak;
    mean += x[i];
  }
  mean /= n;
  const centre = (n - 1) / 2;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (i - centre) * (x[i] - mean);
    sxx += (i - centre) * (i - centre);
  }
  const slope = sxy / sxx;
  let rest = 0;
  for (let i = 0; i < n; i++) {
    x[i] -= mean + slope * (i - centre);
    rest = Math.max(rest, Math.abs(x[i]));
  }
  // Rounding noise of a straight line is not a signal.
  if (!(rest > 1e-12)) return undefined;
  for (let i = 0; i < n; i++) x[i] /= rest;
  return x;
}

/** Blocks a collector keeps, whatever the warm-up length. */
export const PERIOD_BLOCKS = 256;

// Layout of a collector's scalars, in the Float64Array its owner hands it.
const ORIGIN = 0; // first timestamp: block times are kept relative to it
const BASE = 1; // first value: block values are kept relative to it, so float32 keeps their detail
const SEEN = 2; // points added
const SUM_VALUE = 3; // of the open block, relative to BASE
const SUM_TIME = 4; // of the open block, relative to ORIGIN
export const PERIOD_COLLECTOR_SLOTS = 5;

const FLOAT32_MAX = 3.4028234663852886e38;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const CLOCK_PERIODS = [
  ...[1, 2, 5, 10, 15, 20, 30].map((n) => n * SECOND),
  ...[1, 2, 5, 10, 15, 20, 30].map((n) => n * MINUTE),
  ...[1, 2, 3, 4, 6, 8, 12].map((n) => n * HOUR),
  DAY,
  7 * DAY,
];
/** Estimates are good to about 1% (1.3% at worst on 300 noisy sines); a clock period 3% off is not the one. */
const CLOCK_TOLERANCE = 0.03;

/**
 * The clock period nearest `periodMs` if it is within CLOCK_TOLERANCE, else `periodMs`.
 * Operational cycles are set by clocks (cron schedules, business hours, days, weeks),
 * and a baseline keyed by phase turns any error in the period into a drift that grows
 * every cycle: 0.5% off a day is two hours off after a month.
 */
export function snapToClock(periodMs: number): number {
  for (const clock of CLOCK_PERIODS) {
    if (Math.abs(periodMs - clock) <= CLOCK_TOLERANCE * clock) return clock;
  }
  return periodMs;
}

export interface PeriodEstimate {
  /** Length of the cycle in milliseconds; 0 when the series has none. */
  readonly periodMs: number;
  /** Points the series delivers per cycle, on average (time in gaps counts, with no points). */
  readonly pointsPerPeriod: number;
}

/**
 * Gathers a series' first `warmup` points for `findPeriod` in fixed space: block
 * averages of `blockSize` consecutive points (at most PERIOD_BLOCKS of them), each
 * with its mean timestamp. The state lives in arrays its owner provides, so it is part
 * of the owner's snapshot, and their size is the same before and after the estimate.
 *
 * Block times make the estimate a matter of time, not of point count: the blocks are
 * resampled onto an even time grid before the ACF, so a gap or a burst of repeated
 * timestamps in the warm-up shifts nothing, and the period comes out in milliseconds
 * directly, where a count-based lag would need a sampling interval to convert it.
 */
export class PeriodCollector {
  readonly blockSize: number;

  constructor(
    readonly warmup: number,
    private readonly values: Float32Array,
    private readonly times: Float32Array,
    private readonly s: Float64Array,
  ) {
    this.blockSize = Math.ceil(warmup / PERIOD_BLOCKS);
    if (values.length < PERIOD_BLOCKS || times.length < PERIOD_BLOCKS || s.length < PERIOD_COLLECTOR_SLOTS) {
      throw new RangeError('PeriodCollector: state arrays are too short');
    }
  }

  get seen(): number {
    return this.s[SEEN];
  }

  get done(): boolean {
    return this.s[SEEN] >= this.warmup;
  }

  /** The first timestamp seen: the origin the estimate's block times are relative to. */
  get origin(): number {
    return this.s[ORIGIN];
  }

  /** Blocks closed so far: all of them once the warm-up is done, the last one maybe short. */
  get blockCount(): number {
    return this.done ? Math.ceil(this.s[SEEN] / this.blockSize) : Math.floor(this.s[SEEN] / this.blockSize);
  }

  /** Mean value of block `i`. */
  blockValue(i: number): number {
    return this.s[BASE] + this.values[i];
  }

  /** Mean timestamp of block `i`. */
  blockTime(i: number): number {
    return this.s[ORIGIN] + this.times[i];
  }

  /** Adds one point; ignored once the warm-up is complete. */
  add(value: number, t: number): void {
    const s = this.s;
    if (s[SEEN] >= this.warmup) return;
    if (s[SEEN] === 0) {
      s[ORIGIN] = t;
      s[BASE] = value;
    }
    s[SUM_VALUE] += value - s[BASE];
    s[SUM_TIME] += t - s[ORIGIN];
    const seen = ++s[SEEN];
    const inBlock = ((seen - 1) % this.blockSize) + 1;
    if (inBlock === this.blockSize || seen === this.warmup) {
      const block = Math.floor((seen - 1) / this.blockSize);
      const mean = s[SUM_VALUE] / inBlock;
      this.values[block] = Math.max(-FLOAT32_MAX, Math.min(FLOAT32_MAX, mean));
      this.times[block] = s[SUM_TIME] / inBlock;
      s[SUM_VALUE] = 0;
      s[SUM_TIME] = 0;
    }
  }

  /** The period of what was collected (call once `done`). Allocates, once per series. */
  estimate(options: Partial<PeriodSearch> = {}): PeriodEstimate {
    const none = { periodMs: 0, pointsPerPeriod: 0 };
    const blocks = this.blockCount;
    if (blocks < 4) return none;
    // Timestamps that step back (a replayed stretch) collapse onto the latest one
    // instead of folding the time axis over itself.
    const times = new Float64Array(blocks);
    for (let i = 0; i < blocks; i++)
      times[i] = i === 0 ? this.times[0] : Math.max(this.times[i], times[i - 1]);
    const span = times[blocks - 1] - times[0];
    if (!(span > 0)) return none;

    const cellMs = span / (blocks - 1);
    const grid = new Float64Array(blocks);
    let k = 0;
    for (let j = 0; j < blocks; j++) {
      const t = times[0] + j * cellMs;
      while (k < blocks - 2 && times[k + 1] < t) k++;
      const width = times[k + 1] - times[k];
      const w = width > 0 ? Math.min(1, Math.max(0, (t - times[k]) / width)) : 1;
      grid[j] = this.values[k] + w * (this.values[k + 1] - this.values[k]);
    }
    const lag = findPeriod(grid, options);
    if (lag === 0) return none;

    const periodMs = snapToClock(lag * cellMs);
    return { periodMs, pointsPerPeriod: periodMs * this.pointsPerMs() };
  }

  /**
   * Points per millisecond over the warm-up, from the first block's centre to the
   * last one's: time spent in gaps counts, so a gappy series reads as a sparse one.
   */
  pointsPerMs(): number {
    const blocks = this.blockCount;
    if (blocks < 2) return 0;
    const span = this.times[blocks - 1] - this.times[0];
    const lastStart = (blocks - 1) * this.blockSize;
    const points = (lastStart + this.s[SEEN] - 1) / 2 - (this.blockSize - 1) / 2;
    return span > 0 ? points / span : 0;
  }
}
