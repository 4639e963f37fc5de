import { BaseDetector } from './base.detector';
import { type DetectorSnapshot, type Params } from './detector';
import { ParamReader } from './params';
import { SnapshotReader } from './snapshot';

const KIND = 'flatline';
const VERSION = 1;

const N = 0;
const LAST = 1;
const RUN = 2; // points in the current run of repeated values, the last one included
const LONGEST = 3; // longest finished run seen lately, relaxing slowly
const SHORT_DELTA = 4; // EW mean |delta|, fast
const LONG_DELTA = 5; // EW mean |delta|, slow
const SLOTS = 6;

/**
 * Stuck sensors and dead signals. Two symptoms, one detector:
 * - a run of identical values longer than any run the metric has produced lately
 *   (a counter that stopped, a gauge frozen at its last reading);
 * - the point-to-point movement collapsing far below its usual size (a noisy signal gone
 *   smooth: a process that stopped doing work but still reports).
 * Metrics that are often flat (a queue at zero) learn long runs and stay quiet.
 */
export class FlatlineDetector extends BaseDetector {
  readonly kind = KIND;
  private readonly relax: number;
  private readonly shortRate: number;
  private readonly longRate: number;
  private readonly grace: number;
  private readonly s: Float64Array;

  constructor(
    readonly params: Params = {},
    state?: Float64Array,
  ) {
    super();
    const p = new ParamReader(KIND, params);
    const memory = p.number('memory', 2000, { min: 10, max: 1e9 });
    const shortWindow = p.number('shortWindow', 12, { min: 1, max: 1e6 });
    this.grace = p.integer('grace', 150, 2, 1e6);
    p.done();
    this.relax = 1 / memory;
    this.shortRate = 1 / shortWindow;
    this.longRate = 1 / (10 * memory);
    this.s = state ?? new Float64Array(SLOTS);
  }

  static restore(snapshot: DetectorSnapshot): FlatlineDetector {
    const r = new SnapshotReader(snapshot, KIND, [VERSION]);
    return new FlatlineDetector(snapshot.params, r.array('s', Float64Array, SLOTS));
  }

  score(value: number, _t?: number): number {
    const s = this.s;
    if (s[N] < this.grace) return 0;
    const run = value === s[LAST] ? s[RUN] + 1 : 1;
    const longest = Math.max(s[LONGEST], 2);
    const stuck = run > longest ? 1 - Math.exp(-(run - longest) / longest) : 0;
    // Movement collapse: the fast mean of |delta| against the slow one, once the run of
    // quiet is long enough to matter.
    const delta = Math.abs(value - s[LAST]);
    const shortDelta = s[SHORT_DELTA] + this.shortRate * (delta - s[SHORT_DELTA]);
    const ratio = s[LONG_DELTA] > 0 ? shortDelta / s[LONG_DELTA] : 1;
    const quiet = ratio < 0.05 ? Math.min(1, -Math.log10(Math.max(ratio, 1e-6) / 0.05) / 3) : 0;
    return Math.max(stuck, quiet);
  }

  learn(value: number, _t?: number): void {
    const s = this.s;
    if (s[N] === 0) {
      s[RUN] = 1;
    } else {
      const delta = Math.abs(value - s[LAST]);
      s[SHORT_DELTA] += this.shortRate * (delta - s[SHORT_DELTA]);
      s[LONG_DELTA] =
        s[N] === 1 ? delta : s[LONG_DELTA] + Math.max(this.longRate, 1 / s[N]) * (delta - s[LONG_DELTA]);
      s[LONGEST] *= 1 - this.relax;
      if (value === s[LAST]) {
        s[RUN]++;
      } else {
        // Only a finished run sets the reference: the run in progress is what is judged.
        s[LONGEST] = Math.max(s[LONGEST], s[RUN]);
        s[RUN] = 1;
      }
    }
    s[LAST] = value;
    s[N]++;
  }

  snapshot(): DetectorSnapshot {
    return { kind: KIND, version: VERSION, params: this.params, state: { s: this.s.slice() } };
  }
}
