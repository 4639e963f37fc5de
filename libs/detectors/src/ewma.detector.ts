import { ScalarStateDetector } from './base.detector';
import { type DetectorSnapshot, type Params } from './detector';
import { ParamReader } from './params';
import { deviationScore } from './stats/deviation';

const KIND = 'ewma';
const VERSION = 1;

// Layout of the single state array.
const N = 0;
const MEAN = 1;
const VAR = 2;
const SLOTS = 3;

/**
 * Exponentially weighted mean and variance; the score is how many weighted standard
 * deviations the point sits from the mean. Adapts to drift within `halfLife` points,
 * so it flags sudden spikes and dips, not slow trends.
 */
export class EwmaDetector extends ScalarStateDetector {
  readonly kind = KIND;
  private readonly alpha: number;
  private readonly grace: number;

  constructor(params: Params = {}, state?: Float64Array) {
    super(params, VERSION, SLOTS, state);
    const p = new ParamReader(KIND, params);
    const halfLife = p.number('halfLife', 64, { min: 1, max: 1e6 });
    this.grace = p.integer('grace', 30, 2, 1e6);
    p.done();
    this.alpha = 1 - Math.pow(0.5, 1 / halfLife);
  }

  static restore(snapshot: DetectorSnapshot): EwmaDetector {
    return new EwmaDetector(
      snapshot.params,
      ScalarStateDetector.scalarState(snapshot, KIND, [VERSION], SLOTS),
    );
  }

  score(value: number, _t?: number): number {
    const s = this.s;
    if (s[N] < this.grace) return 0;
    return deviationScore(value - s[MEAN], Math.sqrt(s[VAR]), s[MEAN]);
  }

  learn(value: number, _t?: number): void {
    const s = this.s;
    if (s[N] === 0) {
      s[MEAN] = value;
      s[VAR] = 0;
    } else {
      // West's incremental form: exact for an exponentially weighted window.
      const a = s[N] < 1 / this.alpha ? 1 / (s[N] + 1) : this.alpha;
      const diff = value - s[MEAN];
      const incr = a * diff;
      s[MEAN] += incr;
      s[VAR] = (1 - a) * (s[VAR] + diff * incr);
    }
    s[N]++;
  }
}
