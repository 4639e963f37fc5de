import { BaseDetector } from './base.detector';
import { type DetectorSnapshot, type Params } from './detector';
import { ParamReader } from './params';
import { SnapshotReader } from './snapshot';
import { RANGE_SLOTS, RunningRange } from './stats/running-range';

const KIND = 'sequence';
const VERSION = 1;

const N = 0;
const RANGE = 1; // RANGE_SLOTS slots of the running range
const CONTEXT = RANGE + RANGE_SLOTS; // the last `order` symbols, as a base-`levels` number
const SLOTS = CONTEXT + 1;

/** A context's counts are halved when its total reaches this: recent behaviour outweighs old. */
const CONTEXT_CAP = 64;
/** Bounds the table (and so the state) whatever the parameters. */
const MAX_CELLS = 4096;

/**
 * Novel sequences: has the metric moved like this before?
 *
 * Each value becomes one of `levels` symbols by its place in the recently seen range;
 * the detector counts which symbol followed each context of the last `order` symbols
 * (an exact table of levels^(order+1) counts, halved per context as it fills, so the
 * model follows a changing metric). The score is how unexpected the new symbol is in
 * its context. This catches what deviation detectors cannot: a daily peak that did not
 * come, a value that is normal in itself but arrives in the wrong order, a rhythm that
 * changed. It is the cheap cousin of the context models behind the best NAB detectors
 * (CAD OSE's contextual anomaly, ARTime's categories), at O(levels) per point.
 */
export class SequenceDetector extends BaseDetector {
  readonly kind = KIND;
  private readonly levels: number;
  private readonly contexts: number;
  private readonly range: RunningRange;
  private readonly grace: number;
  private readonly s: Float64Array;
  private readonly counts: Uint16Array;

  constructor(
    readonly params: Params = {},
    state?: { s: Float64Array; counts: Uint16Array },
  ) {
    super();
    const p = new ParamReader(KIND, params);
    this.levels = p.integer('levels', 8, 2, 32);
    const order = p.integer('order', 2, 1, 4);
    const memory = p.number('memory', 5000, { min: 10, max: 1e9 });
    this.grace = p.integer('grace', 150, 2, 1e6);
    this.contexts = Math.pow(this.levels, order);
    if (this.contexts * this.levels > MAX_CELLS) {
      throw p.invalid(
        'order',
        `with ${this.levels} levels needs ${this.contexts * this.levels} counts; at most ${MAX_CELLS}`,
      );
    }
    p.done();
    this.range = new RunningRange(memory, RANGE);
    this.s = state?.s ?? new Float64Array(SLOTS);
    this.counts = state?.counts ?? new Uint16Array(this.contexts * this.levels);
  }

  static restore(snapshot: DetectorSnapshot): SequenceDetector {
    const r = new SnapshotReader(snapshot, KIND, [VERSION]);
    const probe = new SequenceDetector(snapshot.params);
    return new SequenceDetector(snapshot.params, {
      s: r.array('s', Float64Array, SLOTS),
      counts: r.array('counts', Uint16Array, probe.counts.length),
    });
  }

  score(value: number): number {
    const s = this.s;
    if (s[N] < this.grace) return 0;
    const row = s[CONTEXT] * this.levels;
    let total = 0;
    for (let i = 0; i < this.levels; i++) total += this.counts[row + i];
    // A context never seen is itself a novelty, but weaker evidence than a seen context
    // that never led here.
    if (total === 0) return 0.5;
    const seen = this.counts[row + this.symbol(value)];
    return (1 - seen / total) * (total / (total + 2));
  }

  learn(value: number): void {
    const s = this.s;
    if (s[N] > 0) {
      const symbol = this.symbol(value);
      const row = s[CONTEXT] * this.levels;
      if (++this.counts[row + symbol] >= CONTEXT_CAP) {
        for (let i = 0; i < this.levels; i++) this.counts[row + i] >>= 1;
      }
      s[CONTEXT] = (s[CONTEXT] * this.levels + symbol) % this.contexts;
    }
    this.range.learn(s, value, s[N] === 0);
    s[N]++;
  }

  snapshot(): DetectorSnapshot {
    return {
      kind: KIND,
      version: VERSION,
      params: this.params,
      state: { s: this.s.slice(), counts: this.counts.slice() },
    };
  }

  private symbol(value: number): number {
    const low = this.range.low(this.s);
    const width = this.range.high(this.s) - low;
    if (!(width > 0)) return 0;
    const q = Math.floor(((value - low) / width) * this.levels);
    return q < 0 ? 0 : q >= this.levels ? this.levels - 1 : q;
  }
}
