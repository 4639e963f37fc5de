import { ScalarStateDetector } from './base.detector';
import { type DetectorSnapshot, type Params } from './detector';
import { ParamReader } from './params';

const KIND = 'gap';
const VERSION = 1;

const N = 0;
const LAST_T = 1;
const LOG_INTERVAL = 2; // running median of log(interval), in log-milliseconds
const SLOTS = 3;

/**
 * Gaps in reporting, judged on the first point after the silence: how many usual
 * intervals went by without a point. The usual interval is a running median of the
 * log of the time between points, so jitter, bursts and repeated timestamps (interval
 * zero, ignored) do not move it, and a metric reporting every 10 s and one reporting
 * hourly are judged alike. The silence itself, while no point arrives, is the engine's
 * to notice ("no data"): a detector only sees points.
 */
export class GapDetector extends ScalarStateDetector {
  readonly kind = KIND;
  private readonly rate: number;
  private readonly tolerance: number;
  private readonly grace: number;

  constructor(params: Params = {}, state?: Float64Array) {
    super(params, VERSION, SLOTS, state);
    const p = new ParamReader(KIND, params);
    this.rate = p.fraction('rate', 0.05);
    this.tolerance = p.number('tolerance', 3, { min: 1, max: 1e6 });
    this.grace = p.integer('grace', 20, 2, 1e6);
    p.done();
  }

  static restore(snapshot: DetectorSnapshot): GapDetector {
    return new GapDetector(
      snapshot.params,
      ScalarStateDetector.scalarState(snapshot, KIND, [VERSION], SLOTS),
    );
  }

  score(_value: number, t: number): number {
    const s = this.s;
    if (s[N] < this.grace) return 0;
    const interval = t - s[LAST_T];
    if (interval <= 0) return 0;
    const missed = interval / Math.exp(s[LOG_INTERVAL]) - this.tolerance;
    return missed > 0 ? 1 - Math.exp(-missed / (4 * this.tolerance)) : 0;
  }

  learn(_value: number, t: number): void {
    const s = this.s;
    const interval = t - s[LAST_T];
    if (s[N] > 0 && interval > 0) {
      const log = Math.log(interval);
      if (s[N] === 1 || s[LOG_INTERVAL] === 0) s[LOG_INTERVAL] = log;
      else s[LOG_INTERVAL] += log > s[LOG_INTERVAL] ? this.rate : log < s[LOG_INTERVAL] ? -this.rate : 0;
    }
    // Points may arrive out of order: the clock only moves forward.
    if (s[N] === 0 || t > s[LAST_T]) s[LAST_T] = t;
    s[N]++;
  }
}
