import { BaseDetector } from './base.detector';
import { type DetectorSnapshot, type Params } from './detector';
import { DetectorError, DetectorErrorCode } from './errors';
import { ParamReader } from './params';
import { SnapshotReader } from './snapshot';
import { spreadFloor } from './stats/deviation';

const KIND = 'cusum';
const VERSION = 1;

// Standardised residuals are winsorised at this many spreads before they reach a
// statistic or a spread estimate, so one spike moves everything by a bounded step and
// cannot raise an alarm on its own: that is the spike detectors' job.
const CLIP = 3;
const CLIP_SQ = CLIP * CLIP;
// sqrt(E[min(Z², 9)]) for a standard normal Z: dividing a winsorised root mean square
// by it gives the standard deviation for Gaussian noise. For any noise, the mean of the
// clipped squared standardised residual is then the Gaussian one, so the variance
// statistics drift down at their designed rate whatever the distribution's shape.
const CLIPPED_RMS = Math.sqrt(0.9950072780344534);
// E|Z| = sqrt(2 / pi): the mean absolute residual of unit Gaussian noise. Unclipped, so
// a restarted noise spread measures a change of any size in one go.
const ABS_MEAN = Math.sqrt(2 / Math.PI);
// Noise is measured against a mean with a half-life of two points: fast enough to
// absorb a level shift within a few points instead of reading it as extra variance,
// slow enough that successive residuals stay nearly uncorrelated (lag-one correlation
// -alpha/2 = -0.15), which the likelihood-ratio statistics assume.
const FAST_ALPHA = 1 - Math.SQRT1_2;
// A residual about that mean has variance 2 / (2 - alpha) times the noise's.
const NOISE_PER_RESIDUAL_VARIANCE = 1 - FAST_ALPHA / 2;
// How many points a baseline restarted after an alarm counts as: the equivalent sample
// size of a fast mean, (2 - alpha) / alpha, about six. The points after the change
// soon outweigh whatever the restart got wrong.
const RESTART_AGE = (2 - FAST_ALPHA) / FAST_ALPHA;
// Cap on the lag-one autocorrelation used to widen the level spread (a factor of ten at
// most): a random walk has no level to shift from, and the level statistics go quiet.
const MAX_AUTOCORRELATION = 0.98;

// Layout of the single state array.
const N = 0;
const MEAN = 1; // slow baseline
const MEAN_AGE = 2; // points averaged into MEAN since it last restarted
const SPREAD = 3; // standard deviation of residuals about MEAN
const SPREAD_AGE = 4; // residuals averaged into SPREAD since it last restarted
const LAG_PRODUCT = 5; // mean product of successive clipped standardised residuals
const PREVIOUS = 6; // the last clipped standardised residual about MEAN
const FAST = 7; // fast mean
const NOISE = 8; // standard deviation of residuals about FAST
const NOISE_AGE = 9; // residuals averaged into NOISE since it last restarted
const FAST_ABS = 10; // fast mean of |residual about FAST|: where NOISE restarts
// The four one-sided statistics, in nats.
const UP = 11;
const DOWN = 12;
const LOUDER = 13;
const QUIETER = 14;
const SLOTS = 15;

/**
 * Changes of level and of variance, with two-sided CUSUMs (Page's test) on standardised
 * residuals. Every statistic is a log-likelihood ratio, in nats.
 *
 * - Level: residuals about a slow, winsorised, exponentially weighted mean, divided by
 *   a robust spread (winsorised root mean square) that the residuals' lag-one
 *   autocorrelation rho widens to the long-run spread, by sqrt((1 + rho) / (1 - rho)):
 *   slow wander is not a shift, and would otherwise alarm every few dozen points. The
 *   statistics test a shift of 2k such spreads either way (allowance `k`).
 * - Variance: residuals about a two-point-half-life mean, which follows a level shift
 *   within a few points, divided by their own robust spread; the statistics test the
 *   variance growing or shrinking by `varianceRatio`.
 *
 * A statistic alarms at H = 2k·h nats: the level statistic's increments are 2k·(r - k),
 * so that is the textbook threshold `h` in standard deviations, and sharing it gives
 * both kinds of change the same false-alarm rate on Gaussian noise. On an alarm the
 * statistics of that kind reset, so the detector re-arms at once, and the baseline
 * restarts where the series now is (from fast means over the last few points, of the
 * values for a level and of their absolute deviations for a variance) instead of
 * drifting there over several half-lives.
 *
 * score = min(1, max(statistics) / H), the statistics including the point scored. On
 * Gaussian noise a likelihood-ratio CUSUM exceeds x nats with probability about e^-x,
 * so the score is linear in the log of that tail probability, like the anomaly
 * likelihood's log scale: 0.5 is about e^-10 with the defaults, and 1 is an alarm.
 *
 * Parameters: `k` (default 0.5) and `h` (20) as above; `varianceRatio` (2); the
 * half-lives, in points, of the slow mean (`halfLife`, 256) and of the spreads and
 * autocorrelation (`spreadHalfLife`, 1024); and `grace` (64), the points learned, and
 * scored 0, before the statistics start.
 */
export class CusumDetector extends BaseDetector {
  readonly kind = KIND;
  private readonly k: number;
  private readonly threshold: number;
  private readonly alpha: number;
  private readonly spreadAlpha: number;
  private readonly grace: number;
  private readonly ratio: number;
  private readonly halfLogRatio: number;
  private readonly louderSlope: number;
  private readonly quieterSlope: number;
  private readonly s: Float64Array;

  constructor(
    readonly params: Params = {},
    state?: Float64Array,
  ) {
    super();
    const p = new ParamReader(KIND, params);
    // Below the clip, or a winsorised residual could never grow the level statistic.
    this.k = p.fraction('k', 0.5, 0, CLIP);
    const h = p.number('h', 20, { min: 1, max: 1000 });
    this.ratio = p.fraction('varianceRatio', 2, 1, 100);
    const halfLife = p.number('halfLife', 256, { min: 1, max: 1e6 });
    const spreadHalfLife = p.number('spreadHalfLife', 1024, { min: 1, max: 1e6 });
    this.grace = p.integer('grace', 64, 2, 1e6);
    p.done();
    this.threshold = 2 * this.k * h;
    this.alpha = 1 - Math.pow(0.5, 1 / halfLife);
    this.spreadAlpha = 1 - Math.pow(0.5, 1 / spreadHalfLife);
    // Log-likelihood ratio of one standardised residual r, variance rho against 1:
    // (1 - 1/rho)/2 · r² - ln(rho)/2; variance 1/rho against 1: ln(rho)/2 - (rho - 1)/2 · r².
    this.halfLogRatio = Math.log(this.ratio) / 2;
    this.louderSlope = (1 - 1 / this.ratio) / 2;
    this.quieterSlope = (this.ratio - 1) / 2;
    if (state && !state.every(Number.isFinite)) {
      throw new DetectorError(
        DetectorErrorCode.CORRUPT_SNAPSHOT,
        `${KIND}: state 's' holds a non-finite number`,
      );
    }
    this.s = state ?? new Float64Array(SLOTS);
  }

  static restore(snapshot: DetectorSnapshot): CusumDetector {
    const r = new SnapshotReader(snapshot, KIND, [VERSION]);
    return new CusumDetector(snapshot.params, r.array('s', Float64Array, SLOTS));
  }

  score(value: number): number {
    return this.advance(value, false);
  }

  learn(value: number): void {
    this.advance(value, true);
  }

  override step(value: number): number {
    return this.advance(value, true);
  }

  snapshot(): DetectorSnapshot {
    return { kind: KIND, version: VERSION, params: this.params, state: { s: this.s.slice() } };
  }

  /**
   * Scores `value` and, if `commit`, learns it. One code path for score, learn and step,
   * so step is score-then-learn to the last bit while computing everything once.
   */
  private advance(value: number, commit: boolean): number {
    const s = this.s;
    const n = s[N];
    if (n === 0) {
      if (commit) {
        s[MEAN] = value;
        s[MEAN_AGE] = 1;
        s[FAST] = value;
        s[N] = 1;
      }
      return 0;
    }
    const armed = n >= this.grace;
    if (!armed && !commit) return 0;
    const residual = value - s[MEAN];
    const fastResidual = value - s[FAST];
    const spread = Math.max(s[SPREAD], spreadFloor(s[MEAN]));
    const noiseFloor = spreadFloor(s[FAST]);
    const noise = Math.max(s[NOISE], noiseFloor);
    // Either division can overflow to ±Infinity (a huge jump over a tiny spread); the
    // clips turn that into an ordinary maximal step.
    const r = residual / spread;
    const clipped = clip(r);

    let score = 0;
    if (armed) {
      const rho = Math.min(MAX_AUTOCORRELATION, Math.max(0, s[LAG_PRODUCT] / (CLIPPED_RMS * CLIPPED_RMS)));
      const level = clip(r * Math.sqrt((1 - rho) / (1 + rho)));
      const rf = fastResidual / noise;
      const q = Math.min(rf * rf, CLIP_SQ);
      const k2 = 2 * this.k;
      const up = Math.max(0, s[UP] + k2 * (level - this.k));
      const down = Math.max(0, s[DOWN] - k2 * (level + this.k));
      const louder = Math.max(0, s[LOUDER] + this.louderSlope * q - this.halfLogRatio);
      // Shrinking is looked for only while the shrunken variance would still be above
      // the floor's: below it the floor hides the difference, and a flat stretch would
      // alarm again and again.
      const quieter =
        s[NOISE] * s[NOISE] > this.ratio * noiseFloor * noiseFloor
          ? Math.max(0, s[QUIETER] + this.halfLogRatio - this.quieterSlope * q)
          : 0;
      score = Math.min(1, Math.max(up, down, louder, quieter) / this.threshold);
      if (!commit) return score;
      s[UP] = up;
      s[DOWN] = down;
      s[LOUDER] = louder;
      s[QUIETER] = quieter;
    }

    // Baselines. A mean starts as an exact running mean (weight 1/age) and turns into an
    // exponentially weighted one once the half-life weight is larger. Once armed, the
    // slow mean takes winsorised steps, so spikes do not bias it (a real shift moves it
    // through an alarm); before that, the convex form cannot overflow, whatever the values.
    const a = Math.max(this.alpha, 1 / (s[MEAN_AGE] + 1));
    s[MEAN] = armed ? s[MEAN] + a * clipped * spread : (1 - a) * s[MEAN] + a * value;
    s[MEAN_AGE]++;
    const af = Math.max(FAST_ALPHA, 1 / (n + 1));
    s[FAST] = (1 - af) * s[FAST] + af * value;
    const ab = Math.max(FAST_ALPHA, 1 / n);
    s[FAST_ABS] = (1 - ab) * s[FAST_ABS] + ab * Math.abs(fastResidual);
    // Spreads are not clipped before the grace period ends: the first estimates are too
    // rough (the very first is zero) to clip against.
    const spreadWeight = Math.max(this.spreadAlpha, 1 / (s[SPREAD_AGE] + 1));
    const spreadStep = Math.min(Math.abs(residual), armed ? CLIP * spread : Infinity) / CLIPPED_RMS;
    s[SPREAD] = blendRms(s[SPREAD], spreadStep, spreadWeight);
    s[SPREAD_AGE]++;
    // The very first residual was divided by a spread of nothing yet.
    if (n > 1) {
      const lagWeight = Math.max(this.spreadAlpha, 1 / (n - 1));
      s[LAG_PRODUCT] = (1 - lagWeight) * s[LAG_PRODUCT] + lagWeight * clipped * s[PREVIOUS];
    }
    s[PREVIOUS] = clipped;
    const noiseWeight = Math.max(this.spreadAlpha, 1 / (s[NOISE_AGE] + 1));
    const noiseStep = Math.min(Math.abs(fastResidual), armed ? CLIP * noise : Infinity) / CLIPPED_RMS;
    s[NOISE] = blendRms(s[NOISE], noiseStep, noiseWeight);
    s[NOISE_AGE]++;
    s[N] = n + 1;
    if (!armed) return 0;

    // Twice the clip away is a spike or a shift, not noise (Gaussian noise gets there
    // once in 5e8 points): the fast mean jumps to it, so the variance statistics see one
    // or two clipped steps instead of one per halving of the gap.
    if (Math.abs(fastResidual) > 2 * CLIP * noise) s[FAST] = value;

    const threshold = this.threshold;
    if (s[UP] >= threshold || s[DOWN] >= threshold) {
      // The fast mean is where the series is now, whatever the size of the shift; the
      // run since the statistic left zero often starts a few points before the change.
      s[MEAN] = s[FAST];
      s[MEAN_AGE] = RESTART_AGE;
      s[UP] = 0;
      s[DOWN] = 0;
    }
    if (s[LOUDER] >= threshold || s[QUIETER] >= threshold) {
      const quietened = s[QUIETER] > s[LOUDER];
      const before = s[NOISE];
      const after = s[FAST_ABS] / ABS_MEAN;
      s[NOISE] = after;
      s[NOISE_AGE] = RESTART_AGE;
      // The level spread holds the noise plus whatever slow wander the baseline does
      // not follow; only the noise part changed.
      s[SPREAD] = addVariance(s[SPREAD], before, after, NOISE_PER_RESIDUAL_VARIANCE);
      s[SPREAD_AGE] = RESTART_AGE;
      if (quietened) {
        // The slow mean's error was set by the old noise and may be many new spreads (a
        // stuck sensor would raise a level alarm next): restart it from the fast mean.
        s[MEAN] = s[FAST];
        s[MEAN_AGE] = RESTART_AGE;
      }
      s[LOUDER] = 0;
      s[QUIETER] = 0;
    }
    return score;
  }
}

function clip(r: number): number {
  return r > CLIP ? CLIP : r < -CLIP ? -CLIP : r;
}

/**
 * sqrt((1 - weight)·rms² + weight·step²): one step of a weighted root mean square,
 * computed in units of the larger operand so that squaring cannot overflow.
 */
function blendRms(rms: number, step: number, weight: number): number {
  const unit = rms > step ? rms : step;
  if (unit === 0) return 0;
  const a = rms / unit;
  const b = step / unit;
  return unit * Math.sqrt((1 - weight) * a * a + weight * b * b);
}

/** sqrt(spread² + weight·(after² - before²)), floored at zero, overflow-safe likewise. */
function addVariance(spread: number, before: number, after: number, weight: number): number {
  const unit = Math.max(spread, before, after);
  if (unit === 0) return 0;
  const s = spread / unit;
  const b = before / unit;
  const a = after / unit;
  return unit * Math.sqrt(Math.max(0, s * s + weight * (a * a - b * b)));
}
