import { BaseDetector } from './base.detector';
import { type DetectorSnapshot, type Params } from './detector';
import { DetectorError, DetectorErrorCode } from './errors';
import { ParamReader } from './params';
import { SnapshotReader } from './snapshot';
import { deviationScore } from './stats/deviation';
import { RingBuffer } from './stats/ring-buffer';

const KIND = 'windowed-zscore';
const VERSION = 1;

/**
 * How many standard deviations a point sits from the mean of the last `window` points.
 * Unlike an exponentially weighted baseline, a point's influence ends abruptly when it
 * leaves the window: `window` points after a level shift the baseline is entirely the
 * new level, and a spike stops inflating the spread exactly `window` points later.
 *
 * Parameters: `window` (2 to 4096 points, default 128) and `grace`, the points it must
 * hold before it scores anything but 0 (2 to `window`, default 30 or `window` if smaller).
 */
export class WindowedZScoreDetector extends BaseDetector {
  readonly kind = KIND;
  private readonly grace: number;
  private readonly window: RingBuffer;

  constructor(
    readonly params: Params = {},
    state?: Float64Array,
  ) {
    super();
    const p = new ParamReader(KIND, params);
    const size = p.integer('window', 128, 2, 4096);
    // The spread of a handful of points is too noisy to divide by.
    this.grace = p.integer('grace', Math.min(30, size), 2, size);
    p.done();
    if (state) {
      const why = RingBuffer.invalidState(state, size);
      if (why) throw new DetectorError(DetectorErrorCode.CORRUPT_SNAPSHOT, `${KIND}: state 's' ${why}`);
    }
    this.window = new RingBuffer(size, state);
  }

  static restore(snapshot: DetectorSnapshot): WindowedZScoreDetector {
    const r = new SnapshotReader(snapshot, KIND, [VERSION]);
    return new WindowedZScoreDetector(snapshot.params, r.array('s', Float64Array));
  }

  score(value: number): number {
    const w = this.window;
    if (w.count < this.grace) return 0;
    const mean = w.mean();
    const score = deviationScore(value - mean, Math.sqrt(w.variance()), mean);
    // NaN only when values near the float64 limit overflowed the deviation as well as the
    // window's sums: nothing meaningful can be said about such a point.
    return Number.isNaN(score) ? 0 : score;
  }

  learn(value: number): void {
    this.window.push(value);
  }

  snapshot(): DetectorSnapshot {
    return { kind: KIND, version: VERSION, params: this.params, state: { s: this.window.state.slice() } };
  }
}
