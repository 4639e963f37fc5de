import { BaseDetector } from './base.detector';
import { type DetectorSnapshot, type Params } from './detector';
import { DetectorError, DetectorErrorCode } from './errors';
import { ParamReader } from './params';
import { SnapshotReader } from './snapshot';
import { deviationScore, spreadFloor } from './stats/deviation';
import { PERIOD_BLOCKS, PERIOD_COLLECTOR_SLOTS, PeriodCollector } from './stats/period';

const KIND = 'seasonal';
const VERSION = 1;

// Layout of `s`. The collector's slots come first; its origin (the first timestamp)
// stays the zero of phase for the life of the series.
const PERIOD = PERIOD_COLLECTOR_SLOTS; // ms; 0 while warming up and when there is no cycle
const BINS = PERIOD + 1; // phase bins in use; 0 without a cycle
const SEASON_RATE = PERIOD + 2; // learning rate of a bin, per unit of weight
const LEVEL = PERIOD + 3;
const SCALE = PERIOD + 4; // EW mean |residual| over all phases
const LAST_PHASE = PERIOD + 5; // of the previous point, in [0, 1): a drop means the cycle wrapped
const ABS_STEP = PERIOD + 6; // sum of |value - previous value| over the warm-up
const PREVIOUS = PERIOD + 7; // previous value, during the warm-up
const CYCLES = PERIOD + 8; // cycles completed since the warm-up
const BIN_SHARE = PERIOD + 9; // bins / points per cycle: the inverse of the weight a bin takes per cycle
const SLOTS = PERIOD + 10;

/**
 * The `table` holds the collector's blocks (values, then times) during the warm-up;
 * after it, the bins' seasonal offsets in the first half and their mean |residual|
 * in the second.
 */
const TABLE = 2 * PERIOD_BLOCKS;
const SPREADS = PERIOD_BLOCKS;
const MAX_BINS = PERIOD_BLOCKS;
const MIN_BINS = 4;
/** Standard deviation over mean absolute deviation, for Gaussian noise: sqrt(pi / 2). */
const SIGMA_PER_MEAN_ABS = 1.2533141373155003;
/**
 * A phase's spread is never taken below this share of the all-phase one: a bin that
 * has been dead quiet (a metric at exactly zero every night) would otherwise make
 * the first tiny blip there look like an incident.
 */
const SPREAD_FLOOR = 0.25;
/**
 * Residuals are clipped at this many spreads before they move the level, the bins or
 * the scales (Huber-style, as in Gelper, Fried & Croux's robust Holt-Winters): a spike
 * moves nothing by more than a few spreads, while a lasting change still wins,
 * because clipped residuals that keep coming raise the scale and so the clip.
 */
const CLIP = 3;

/**
 * A seasonal baseline: learns a metric's cycle (daily, hourly, weekly...) so that a
 * daily peak at its usual hour is ordinary while the same value at the daily trough
 * is not.
 *
 * For its first `warmup` points it only watches: a PeriodCollector keeps block
 * averages and, at the end, finds the period by autocorrelation (or takes `periodMs`).
 * From then on the prediction is an additive Holt-Winters model keyed by the phase of
 * the timestamp, not by the point's index, so gaps, jitter and repeated timestamps
 * leave it aligned: an EW level plus a seasonal profile of up to 256 bins, one per
 * point of the cycle where that fits (coarser bins smear a sharp daily edge over
 * several points, each a false alarm), read and updated by linear interpolation
 * between the two bins around the phase, so there is no step at bin edges.
 * The profile starts from the warm-up blocks folded by phase, so scoring starts right
 * after the warm-up instead of a cycle later.
 *
 * Each bin also keeps its own spread: many operational cycles are noisy at some hours
 * and quiet at others (a cron job's minute, business hours), and one spread for all
 * phases either cries wolf at the noisy ones or sleeps through the quiet ones. On the
 * NAB development files that have a cycle, scored through an anomaly likelihood, it
 * took this detector from 32 to 38.
 *
 * Without a cycle it is a robust EW level alone. There is no trend term: it would
 * extrapolate every spike and level shift into the future, and the level follows a
 * drift within `levelHalfLife` points anyway.
 *
 * The score is 1 - e^(-z/3) of the residual in units of the phase's spread; 0 during
 * the warm-up.
 *
 * Parameters: `warmup` (points watched before scoring, default 1000: three and a half
 * days of 5-minute data), `periodMs` (a known cycle, skipping detection; 0 detects),
 * `maxBins` (256), `levelHalfLife` (points, 48), `seasonHalfLife` (cycles, 4),
 * `scaleHalfLife` (points, 128), `minCorrelation` (ACF a cycle must reach, 0.3).
 */
export class SeasonalDetector extends BaseDetector {
  readonly kind = KIND;
  private readonly warmup: number;
  private readonly fixedPeriod: number;
  private readonly maxBins: number;
  private readonly seasonHalfLife: number;
  private readonly minCorrelation: number;
  private readonly levelRate: number;
  private readonly scaleRate: number;
  private readonly table: Float32Array;
  private readonly s: Float64Array;
  private readonly collector: PeriodCollector;

  constructor(
    readonly params: Params = {},
    state?: { table: Float32Array; s: Float64Array },
  ) {
    super();
    const p = new ParamReader(KIND, params);
    this.warmup = p.integer('warmup', 1000, 64, 1e6);
    this.fixedPeriod = p.number('periodMs', 0, { min: 0, max: 366 * 86_400_000 });
    this.maxBins = p.integer('maxBins', MAX_BINS, MIN_BINS, MAX_BINS);
    const levelHalfLife = p.number('levelHalfLife', 48, { min: 1, max: 1e6 });
    this.seasonHalfLife = p.number('seasonHalfLife', 4, { min: 0.25, max: 1000 });
    const scaleHalfLife = p.number('scaleHalfLife', 128, { min: 1, max: 1e6 });
    this.minCorrelation = p.fraction('minCorrelation', 0.3);
    p.done();
    this.levelRate = 1 - Math.pow(0.5, 1 / levelHalfLife);
    this.scaleRate = 1 - Math.pow(0.5, 1 / scaleHalfLife);
    this.table = state?.table ?? new Float32Array(TABLE);
    this.s = state?.s ?? new Float64Array(SLOTS);
    this.collector = new PeriodCollector(
      this.warmup,
      this.table.subarray(0, PERIOD_BLOCKS),
      this.table.subarray(PERIOD_BLOCKS),
      this.s.subarray(0, PERIOD_COLLECTOR_SLOTS),
    );
  }

  static restore(snapshot: DetectorSnapshot): SeasonalDetector {
    const r = new SnapshotReader(snapshot, KIND, [VERSION]);
    const s = r.array('s', Float64Array, SLOTS);
    const bins = s[BINS];
    const period = s[PERIOD];
    if (!(
      Number.isInteger(bins) &&
      bins >= 0 &&
      bins <= MAX_BINS &&
      (bins === 0 ? period === 0 : period > 0)
    )) {
      throw new DetectorError(
        DetectorErrorCode.CORRUPT_SNAPSHOT,
        `${KIND}: state 's' holds ${bins} bins for a period of ${period} ms`,
      );
    }
    return new SeasonalDetector(snapshot.params, { table: r.array('table', Float32Array, TABLE), s });
  }

  /** The cycle in use, in milliseconds: 0 during the warm-up and when the series has none. */
  get periodMs(): number {
    return this.s[PERIOD];
  }

  /**
   * What the cycle adds at the time `t`: the learnt profile's offset at that phase, 0
   * during the warm-up and without a cycle. `value - seasonalOffset(t)` is the value with
   * its daily (or other) rhythm taken out, which is what the ensemble's other members
   * judge, so a daily peak does not look like a spike to them. Changes nothing.
   */
  seasonalOffset(t: number): number {
    const bins = this.s[BINS];
    if (!this.collector.done || bins === 0) return 0;
    const x = this.phaseOf(t) * bins;
    const lo = Math.floor(x);
    const hi = lo + 1 === bins ? 0 : lo + 1;
    return this.table[lo] + (x - lo) * (this.table[hi] - this.table[lo]);
  }

  score(value: number, t: number): number {
    return this.collector.done ? this.judge(value, t, false) : 0;
  }

  learn(value: number, t: number): void {
    if (this.collector.done) this.judge(value, t, true);
    else this.watch(value, t);
  }

  override step(value: number, t: number): number {
    if (this.collector.done) return this.judge(value, t, true);
    this.watch(value, t);
    return 0;
  }

  snapshot(): DetectorSnapshot {
    return {
      kind: KIND,
      version: VERSION,
      params: this.params,
      state: { table: this.table.slice(), s: this.s.slice() },
    };
  }

  /** Scores `value` against the baseline and, when `learn`, moves the baseline towards it. */
  private judge(value: number, t: number, learn: boolean): number {
    const s = this.s;
    const table = this.table;
    const bins = s[BINS];
    const overall = SIGMA_PER_MEAN_ABS * s[SCALE];
    let expected = s[LEVEL];
    let spread = overall;
    let phase = 0;
    let lo = 0;
    let hi = 0;
    let w = 0;
    if (bins > 0) {
      phase = this.phaseOf(t);
      // Bin i is centred on phase i / bins, so with one bin per point a regularly
      // sampled series lands on bin centres and a sharp edge is not smeared.
      const x = phase * bins;
      lo = Math.floor(x);
      w = x - lo;
      hi = lo + 1 === bins ? 0 : lo + 1;
      expected += table[lo] + w * (table[hi] - table[lo]);
      const own = table[SPREADS + lo] + w * (table[SPREADS + hi] - table[SPREADS + lo]);
      spread = Math.max(SIGMA_PER_MEAN_ABS * own, SPREAD_FLOOR * overall);
    }
    const residual = value - expected;
    const out = deviationScore(residual, spread, expected);
    if (!learn) return out;

    const limit = CLIP * Math.max(spread, spreadFloor(expected));
    const clipped = Math.max(-limit, Math.min(limit, residual));
    const size = Math.abs(clipped);
    s[LEVEL] += this.levelRate * clipped;
    s[SCALE] += this.scaleRate * (size - s[SCALE]);
    if (bins > 0) {
      const rate = s[SEASON_RATE];
      // What the level did not absorb is the bins' to learn.
      const rest = rate * (1 - this.levelRate) * clipped;
      table[lo] = toFloat32Range(table[lo] + (1 - w) * rest);
      table[hi] = toFloat32Range(table[hi] + w * rest);
      // The spreads start from one all-phase guess: they learn as a plain mean over the
      // first cycles (that guess counting as one), then settle to the seasonal rate.
      const spreadRate = Math.max(rate, s[BIN_SHARE] / (s[CYCLES] + 2));
      table[SPREADS + lo] = toFloat32Range(
        table[SPREADS + lo] + spreadRate * (1 - w) * (size - table[SPREADS + lo]),
      );
      table[SPREADS + hi] = toFloat32Range(
        table[SPREADS + hi] + spreadRate * w * (size - table[SPREADS + hi]),
      );
      if (phase < s[LAST_PHASE]) {
        this.recentre();
        s[CYCLES]++;
      }
      s[LAST_PHASE] = phase;
    }
    return out;
  }

  /** Warm-up: feed the collector and a plain level model (the baseline if no cycle turns up). */
  private watch(value: number, t: number): void {
    const s = this.s;
    const n = this.collector.seen;
    if (n === 0) {
      s[LEVEL] = value;
    } else {
      // Early points get equal weight: an EW mean started on one value overweights it.
      const levelRate = Math.max(this.levelRate, 1 / (n + 1));
      const residual = value - s[LEVEL];
      s[LEVEL] += levelRate * residual;
      s[SCALE] += Math.max(this.scaleRate, 1 / n) * (Math.abs(residual) - s[SCALE]);
      s[ABS_STEP] += Math.abs(value - s[PREVIOUS]);
    }
    s[PREVIOUS] = value;
    this.collector.add(value, t);
    if (this.collector.done) this.startBaseline();
  }

  /** End of the warm-up: settles the period and, if there is one, fits the profile. */
  private startBaseline(): void {
    const s = this.s;
    const c = this.collector;
    const period =
      this.fixedPeriod > 0 ? this.fixedPeriod : c.estimate({ minCorrelation: this.minCorrelation }).periodMs;
    const pointsPerPeriod = period * c.pointsPerMs();
    if (!(period > 0 && pointsPerPeriod >= MIN_BINS)) {
      this.table.fill(0);
      return;
    }
    const bins = Math.max(MIN_BINS, Math.min(this.maxBins, Math.round(pointsPerPeriod)));
    const profile = this.foldWarmup(period, bins);
    // Consecutive differences hold the noise and hardly any of a cycle sampled many
    // times over: E|x[i] - x[i-1]| = sqrt(2) E|noise| for independent noise. The warm-up
    // level model's scale would be mostly the cycle's amplitude.
    const scale = s[ABS_STEP] / Math.max(1, c.seen - 1) / Math.SQRT2;
    this.table.fill(0);
    for (let b = 0; b < bins; b++) {
      this.table[b] = toFloat32Range(profile[b]);
      this.table[SPREADS + b] = toFloat32Range(scale);
    }
    s[SCALE] = scale;
    s[PERIOD] = period;
    s[BINS] = bins;
    // Each point spreads a weight of 1 over two bins, so a bin takes pointsPerPeriod /
    // bins of weight per cycle; its memory halves after seasonHalfLife cycles.
    s[SEASON_RATE] = 1 - Math.pow(0.5, bins / (this.seasonHalfLife * pointsPerPeriod));
    s[BIN_SHARE] = Math.min(1, bins / pointsPerPeriod);
    s[LAST_PHASE] = this.phaseOf(c.blockTime(c.blockCount - 1));
  }

  /**
   * The seasonal profile of the warm-up: block values minus their least-squares line,
   * averaged by phase into the bins with the model's interpolation weights, gaps filled
   * from neighbouring bins, centred on zero. Sets the level from the last cycle,
   * without its seasonal part. Allocates, once.
   */
  private foldWarmup(period: number, bins: number): Float64Array {
    const c = this.collector;
    const blocks = c.blockCount;
    const t0 = c.blockTime(0);
    let meanT = 0;
    let meanV = 0;
    for (let i = 0; i < blocks; i++) {
      meanT += c.blockTime(i) - t0;
      meanV += c.blockValue(i);
    }
    meanT /= blocks;
    meanV /= blocks;
    let stv = 0;
    let stt = 0;
    for (let i = 0; i < blocks; i++) {
      const dt = c.blockTime(i) - t0 - meanT;
      stv += dt * (c.blockValue(i) - meanV);
      stt += dt * dt;
    }
    const slope = stt > 0 ? stv / stt : 0;
    const position = (i: number): number => this.phaseOf(c.blockTime(i), period) * bins;
    const detrended = (i: number): number => c.blockValue(i) - meanV - slope * (c.blockTime(i) - t0 - meanT);
    const profile = averageByPhase(blocks, bins, position, detrended);
    let mean = 0;
    for (let b = 0; b < bins; b++) mean += profile[b];
    mean /= bins;
    for (let b = 0; b < bins; b++) profile[b] -= mean;

    const end = c.blockTime(blocks - 1);
    let level = 0;
    let count = 0;
    for (let i = blocks - 1; i >= 0 && c.blockTime(i) > end - period; i--) {
      level += c.blockValue(i) - interpolate(profile, position(i));
      count++;
    }
    this.s[LEVEL] = level / count;
    return profile;
  }

  /** Where `t` falls in the cycle, in [0, 1). */
  private phaseOf(t: number, period = this.s[PERIOD]): number {
    const cycles = (t - this.collector.origin) / period;
    const phase = cycles - Math.floor(cycles);
    // A hair below a whole number of cycles can round up to 1.
    return phase < 1 ? phase : 0;
  }

  /**
   * Moves the profile's mean into the level, once a cycle. Level and profile share one
   * degree of freedom (adding c to one and taking it from the other predicts the same),
   * and noise would walk it away without bound, eating into float32's precision.
   */
  private recentre(): void {
    const bins = this.s[BINS];
    let mean = 0;
    for (let b = 0; b < bins; b++) mean += this.table[b];
    mean /= bins;
    for (let b = 0; b < bins; b++) this.table[b] -= mean;
    this.s[LEVEL] += mean;
  }
}

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Clamps what goes into the float32 table: a value beyond its range would be stored as
 * infinity, and one infinity turns the state into NaN for good.
 */
function toFloat32Range(x: number): number {
  return x > FLOAT32_MAX ? FLOAT32_MAX : x < -FLOAT32_MAX ? -FLOAT32_MAX : x;
}

/** Reads a circular table at a fractional position, as the model does. */
function interpolate(table: Float64Array, x: number): number {
  const lo = Math.floor(x);
  const hi = lo + 1 === table.length ? 0 : lo + 1;
  return table[lo] + (x - lo) * (table[hi] - table[lo]);
}

/**
 * Weighted means of `value(i)` for `count` items by circular position (item i at
 * `position(i)` in [0, bins)), split between the two nearest bins as the model splits
 * a point; bins nothing reached are interpolated from the nearest ones that were.
 */
function averageByPhase(
  count: number,
  bins: number,
  position: (i: number) => number,
  value: (i: number) => number,
): Float64Array {
  const sum = new Float64Array(bins);
  const weight = new Float64Array(bins);
  for (let i = 0; i < count; i++) {
    const x = position(i);
    const lo = Math.floor(x);
    const w = x - lo;
    const hi = lo + 1 === bins ? 0 : lo + 1;
    const v = value(i);
    sum[lo] += (1 - w) * v;
    weight[lo] += 1 - w;
    sum[hi] += w * v;
    weight[hi] += w;
  }
  for (let b = 0; b < bins; b++) sum[b] = weight[b] > 0 ? sum[b] / weight[b] : Number.NaN;
  fillCircularGaps(sum);
  return sum;
}

/** Replaces NaN entries of a circular array by linear interpolation between the nearest known ones. */
function fillCircularGaps(values: Float64Array): void {
  const n = values.length;
  let start = -1;
  for (let i = 0; i < n && start < 0; i++) if (!Number.isNaN(values[i])) start = i;
  if (start < 0) {
    values.fill(0);
    return;
  }
  let known = start;
  for (let step = 1; step <= n; step++) {
    const i = (start + step) % n;
    if (Number.isNaN(values[i])) continue;
    const gap = (i - known + n) % n || n;
    for (let j = 1; j < gap; j++) {
      values[(known + j) % n] = values[known] + ((values[i] - values[known]) * j) / gap;
    }
    known = i;
  }
}
