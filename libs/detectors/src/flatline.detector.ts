import { ScalarStateDetector } from './base.detector';
import { type DetectorSnapshot, type Params } from './detector';
import { ParamReader } from './params';

const KIND = 'flatline';
const VERSION = 1;

const N = 0;
const LAST = 1;
const RUN = 2; // points in the current run of repeated values, the last one included
const LONGEST = 3; // longest finished run seen lately, relaxing slowly
const MOVES = 4; // how many times the value has changed
const SLOTS = 5;

/**
 * Stuck sensors: a run of identical values longer than any run the metric has produced
 * lately (a counter that stopped, a gauge frozen at its last reading).
 *
 * The reference is the metric's own history of runs: a queue that sits at zero for an
 * hour every night learns hour-long runs and stays quiet, while a noisy CPU reading that
 * repeats itself for twenty points is flagged. A metric that has never moved has no
 * history to be stuck against, so it is never flagged: constant is its normal.
 */
export class FlatlineDetector extends ScalarStateDetector {
  readonly kind = KIND;
  private readonly relax: number;
  private readonly minMoves: number;
  private readonly grace: number;

  constructor(params: Params = {}, state?: Float64Array) {
    super(params, VERSION, SLOTS, state);
    const p = new ParamReader(KIND, params);
    const memory = p.number('memory', 2000, { min: 10, max: 1e9 });
    this.minMoves = p.integer('minMoves', 10, 1, 1e6);
    this.grace = p.integer('grace', 150, 2, 1e6);
    p.done();
    this.relax = 1 / memory;
  }

  static restore(snapshot: DetectorSnapshot): FlatlineDetector {
    return new FlatlineDetector(
      snapshot.params,
      ScalarStateDetector.scalarState(snapshot, KIND, [VERSION], SLOTS),
    );
  }

  score(value: number, _t?: number): number {
    const s = this.s;
    if (s[N] < this.grace || s[MOVES] < this.minMoves || value !== s[LAST]) return 0;
    const run = s[RUN] + 1;
    const longest = Math.max(s[LONGEST], 2);
    return run > longest ? 1 - Math.exp(-(run - longest) / longest) : 0;
  }

  learn(value: number, _t?: number): void {
    const s = this.s;
    if (s[N] === 0) {
      s[RUN] = 1;
    } else {
      s[LONGEST] *= 1 - this.relax;
      if (value === s[LAST]) {
        s[RUN]++;
      } else {
        // Only a finished run sets the reference: the run in progress is what is judged.
        s[LONGEST] = Math.max(s[LONGEST], s[RUN]);
        s[RUN] = 1;
        s[MOVES]++;
      }
    }
    s[LAST] = value;
    s[N]++;
  }
}
