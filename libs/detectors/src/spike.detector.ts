import { ScalarStateDetector } from './base.detector';
import { type DetectorSnapshot, type Params } from './detector';
import { ParamReader } from './params';

const KIND = 'spike';
const VERSION = 1;

const N = 0;
const HIGH = 1;
const LOW = 2;
const LEVEL = 3;
const SLOTS = 4;

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
  private readonly relax: number;
  private readonly levelRate: number;
  private readonly margin: number;
  private readonly grace: number;

  constructor(params: Params = {}, state?: Float64Array) {
    super(params, VERSION, SLOTS, state);
    const p = new ParamReader(KIND, params);
    const memory = p.number('memory', 20_000, { min: 10, max: 1e9 });
    this.margin = p.fraction('margin', 0.05, 0, 10);
    this.grace = p.integer('grace', 150, 2, 1e6);
    p.done();
    this.relax = 1 / memory;
    this.levelRate = 10 / memory;
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
    const high = s[HIGH];
    const low = s[LOW];
    const width = Math.max(high - low, 1e-9 + 1e-6 * Math.abs(s[LEVEL]));
    const excess = value > high ? value - high : value < low ? low - value : 0;
    if (excess === 0) return 0;
    return 1 - Math.exp(-excess / (this.margin * width));
  }

  learn(value: number, _t?: number): void {
    const s = this.s;
    if (s[N] === 0) {
      s[HIGH] = value;
      s[LOW] = value;
      s[LEVEL] = value;
    } else {
      s[LEVEL] += this.levelRate * (value - s[LEVEL]);
      s[HIGH] -= this.relax * (s[HIGH] - s[LEVEL]);
      s[LOW] += this.relax * (s[LEVEL] - s[LOW]);
      if (value > s[HIGH]) s[HIGH] = value;
      if (value < s[LOW]) s[LOW] = value;
    }
    s[N]++;
  }
}
