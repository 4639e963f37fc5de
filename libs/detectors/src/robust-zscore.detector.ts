import { ScalarStateDetector } from './base.detector';
import { type DetectorSnapshot, type Params } from './detector';
import { ParamReader } from './params';
import { deviationScore } from './stats/deviation';

const KIND = 'robust-zscore';
const VERSION = 1;

const N = 0;
const MEDIAN = 1;
const SPREAD = 2; // running 90th percentile of |value - median|
const SLOTS = 3;

const SPREAD_QUANTILE = 0.9;
/** The 90th percentile of |x - median| of a normal distribution is 1.645 sigma. */
const SPREAD_TO_SIGMA = 1 / 1.645;

/**
 * Streaming median and a robust spread, tracked by stochastic approximation: the median
 * estimate moves a small step towards each point (a step proportional to the current
 * spread, so it is scale-free), and the spread moves multiplicatively until 90% of the
 * points fall inside it. Both forget the past at a rate set by `rate`, so they follow a
 * drifting metric, and a single outlier moves them by one step only: the robust
 * counterpart of the EWMA detector, for heavy-tailed metrics (latencies, counts).
 *
 * The spread is the 90th percentile of |x - median| rather than the median (the MAD):
 * on quantised metrics (a CPU reading in steps of 0.002) more than half the points sit
 * exactly on the median, the MAD is zero, and every tick would look infinitely unusual.
 */
export class RobustZScoreDetector extends ScalarStateDetector {
  readonly kind = KIND;
  private readonly rate: number;
  private readonly grace: number;

  constructor(params: Params = {}, state?: Float64Array) {
    super(params, VERSION, SLOTS, state);
    const p = new ParamReader(KIND, params);
    this.rate = p.fraction('rate', 0.02);
    this.grace = p.integer('grace', 30, 2, 1e6);
    p.done();
  }

  static restore(snapshot: DetectorSnapshot): RobustZScoreDetector {
    return new RobustZScoreDetector(
      snapshot.params,
      ScalarStateDetector.scalarState(snapshot, KIND, [VERSION], SLOTS),
    );
  }

  score(value: number, _t?: number): number {
    const s = this.s;
    if (s[N] < this.grace) return 0;
    return deviationScore(value - s[MEDIAN], SPREAD_TO_SIGMA * s[SPREAD], s[MEDIAN]);
  }

  learn(value: number, _t?: number): void {
    const s = this.s;
    const n = s[N];
    if (n === 0) {
      s[MEDIAN] = value;
      s[SPREAD] = 0;
    } else {
      // Early on, bigger steps (1/n) so the estimates settle within the grace period.
      const rate = Math.max(this.rate, 1 / (n + 1));
      const floor = 1e-9 + 1e-6 * Math.abs(s[MEDIAN]);
      const scale = Math.max(SPREAD_TO_SIGMA * s[SPREAD], floor);
      const dev = value - s[MEDIAN];
      // Median: a bounded step, never more than the distance to the point.
      const move = rate * 1.5 * scale;
      s[MEDIAN] += dev > 0 ? Math.min(move, dev) : Math.max(-move, dev);
      // Spread: multiplicative, so it stays positive and adapts across orders of magnitude;
      // up-steps of q against down-steps of 1 - q settle where a fraction q lies inside.
      const absDev = Math.abs(dev);
      if (s[SPREAD] === 0) s[SPREAD] = absDev;
      else s[SPREAD] *= Math.exp(2 * rate * (absDev > s[SPREAD] ? SPREAD_QUANTILE : SPREAD_QUANTILE - 1));
    }
    s[N] = n + 1;
  }
}
