import { ScalarStateDetector } from './base.detector';
import { type DetectorSnapshot, type Params } from './detector';
import { ParamReader } from './params';
import { RANGE_SLOTS, RunningRange } from './stats/running-range';

const KIND = 'spike';
const VERSION = 1;

const N = 0;
const RANGE = 1; // RANGE_SLOTS slots of the running range
const SLOTS = RANGE + RANGE_SLOTS;

/**
 * Spikes and dips as departures from the range the metric has recently covered.
 *
 * The detector keeps the highest and lowest values seen, each relaxing slowly towards
 * the running level so that a range set by one old excursion does not hide new ones
 * for ever. A point inside the range scores 0; beyond it, the score grows with the
 * excess measured in widths of the range, so "5% above anything seen lately" means the
 * same on every scale. This is the "spatial" signal that lifts NAB's best detectors:
 * new highs and new lows are what operators notice first.
 */
export class SpikeDetector extends ScalarStateDetector {
  readonly kind = KIND;
  private readonly range: RunningRange;
  private readonly margin: number;
  private readonly grace: number;

  constructor(params: Params = {}, state?: Float64Array) {
    super(params, VERSION, SLOTS, state);
    const p = new ParamReader(KIND, params);
    const memory = p.number('memory', 20_000, { min: 10, max: 1e9 });
    this.margin = p.fraction('margin', 0.05, 0, 10);
    this.grace = p.integer('grace', 150, 2, 1e6);
    p.done();
    this.range = new RunningRange(memory, RANGE);
  }

  static restore(snapshot: DetectorSnapshot): SpikeDetector {
    return new SpikeDetector(
      snapshot.params,
      ScalarStateDetector.scalarState(snapshot, KIND, [VERSION], SLOTS),
    );
  }

  score(value: number, _t?: number): number {
    const s = this.s;
    if (s[N] < this.grace) return 0;
    const high = this.range.high(s);
    const low = this.range.low(s);
    const width = Math.max(high - low, 1e-9 + 1e-6 * Math.abs(this.range.level(s)));
    const excess = value > high ? value - high : value < low ? low - value : 0;
    if (excess === 0) return 0;
    return 1 - Math.exp(-excess / (this.margin * width));
  }

  learn(value: number, _t?: number): void {
    const s = this.s;
    this.range.learn(s, value, s[N] === 0);
    s[N]++;
  }
}
