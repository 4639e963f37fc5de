import { type Detector } from '@seismo/detectors';
import { type Series } from './series';

const DAY_MS = 86_400_000;

/**
 * Replays one data set as `count` series interleaved the way the engine receives them:
 * at each tick of the clock every series gets one point, series after series. Series j
 * starts j/count of the way into the data, so the series differ from one another, and
 * the stream never ends: when the data runs out it starts over, moved later by whole
 * days, so that every detector sees time go forward and the daily cycle keep its phase.
 */
export class Feed {
  /** Index into the data of each series' next value. */
  private readonly cursors: Int32Array;
  /** Which series gets the next point. */
  private next = 0;
  /** Index into the data of the current tick's timestamp. */
  private clock = 0;
  /** The data's timestamps, less the first one. */
  private readonly offsets: Float64Array;
  /** Time of the data's first point in the current replay. */
  private epoch: number;
  private readonly replayShift: number;

  constructor(
    private readonly data: Series,
    readonly count: number,
  ) {
    const length = data.values.length;
    if (length < 2 || data.t.length !== length)
      throw new Error('a feed needs at least 2 points, t and values alike');
    if (!(Number.isInteger(count) && count >= 1))
      throw new Error(`series count must be a positive integer, got ${count}`);
    this.cursors = new Int32Array(count);
    for (let j = 0; j < count; j++) this.cursors[j] = Math.floor((j * length) / count);
    this.epoch = data.t[0];
    this.offsets = data.t.map((t) => t - this.epoch);
    const span = this.offsets[length - 1];
    this.replayShift = Math.max(1, Math.ceil((span + span / (length - 1)) / DAY_MS)) * DAY_MS;
  }

  /**
   * Gives each series its next `ticks` points, series after series rather than
   * interleaved: every series sees exactly the points `run(detectors, ticks * count)`
   * would give it, so the detectors end in the same state, but each one's state stays in
   * cache while it learns. For warm-up, where the engine's order is not what is measured.
   */
  warm(detectors: readonly Detector[], ticks: number): number {
    this.check(detectors);
    if (this.next !== 0)
      throw new Error('warm needs the feed at the start of a tick, and a run ended mid-tick');
    const { values } = this.data;
    const { offsets, cursors, replayShift } = this;
    const length = values.length;
    let sum = 0;
    let clock = this.clock;
    let epoch = this.epoch;
    for (let j = 0; j < this.count; j++) {
      const detector = detectors[j];
      let cursor = cursors[j];
      clock = this.clock;
      epoch = this.epoch;
      for (let i = 0; i < ticks; i++) {
        sum += detector.step(values[cursor], epoch + offsets[clock]);
        cursor = cursor + 1 === length ? 0 : cursor + 1;
        clock = clock + 1 === length ? 0 : clock + 1;
        epoch += clock === 0 ? replayShift : 0;
      }
      cursors[j] = cursor;
    }
    this.clock = clock;
    this.epoch = epoch;
    return sum;
  }

  /**
   * Steps `points` points through `detectors` (one per series, in series order) and
   * returns the sum of their scores, which the caller checks so that no score goes unused.
   */
  run(detectors: readonly Detector[], points: number): number {
    this.check(detectors);
    // State in locals for the loop, written back after it: this is the timed path.
    const values = this.data.values;
    const offsets = this.offsets;
    const length = values.length;
    const cursors = this.cursors;
    const count = this.count;
    const replayShift = this.replayShift;
    let next = this.next;
    let clock = this.clock;
    let epoch = this.epoch;
    let now = epoch + offsets[clock];
    let sum = 0;
    for (let i = 0; i < points; i++) {
      const cursor = cursors[next];
      sum += detectors[next].step(values[cursor], now);
      cursors[next] = cursor + 1 === length ? 0 : cursor + 1;
      if (++next === count) {
        next = 0;
        clock = clock + 1 === length ? 0 : clock + 1;
        // Added at every tick rather than in a branch taken once per replay, and to an epoch
        // in milliseconds, far outside V8's small-integer range: so the JIT's assumptions about
        // this loop still hold when the data runs out, instead of deoptimising it mid-run.
        epoch += clock === 0 ? replayShift : 0;
        now = epoch + offsets[clock];
      }
    }
    this.next = next;
    this.clock = clock;
    this.epoch = epoch;
    return sum;
  }

  private check(detectors: readonly Detector[]): void {
    if (detectors.length !== this.count) {
      throw new Error(`feed has ${this.count} series but was given ${detectors.length} detectors`);
    }
  }
}
