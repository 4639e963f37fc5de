/**
 * Where a replayed file's points land in time. A server takes points from 7 days back to
 * 10 minutes ahead, and a file may be years old, so the file is moved in time, keeping
 * the spacing between its points, and played `speed` times faster than it was recorded:
 * its first point is sent at `start`, a point recorded `d` after the first is sent `d /
 * speed` later, and the last point's timestamp is the instant it is sent.
 *
 * Every point is therefore stamped at or before the moment it goes out (none is in the
 * future), the stream ends at "now" as a live one would, and at speed 1 it is live. At
 * `Infinity` (`--speed max`) everything is due at once: the file is laid out ending at
 * `start` and sent as fast as the server takes it. The oldest point is `span * (1 - 1 /
 * speed)` old when it is sent, which the server refuses beyond 7 days.
 */
export class ReplayTimeline {
  private readonly shift: number;

  /**
   * `first` and `last` are the file's earliest and latest timestamps (epoch ms), `start`
   * the wall-clock instant the replay begins.
   */
  constructor(
    private readonly first: number,
    last: number,
    private readonly speed: number,
    private readonly start: number,
  ) {
    if (!(speed > 0)) throw new RangeError(`speed must be above 0, got ${speed}`);
    if (!(last >= first)) throw new RangeError(`last (${last}) is before first (${first})`);
    this.shift = start + (last - first) / speed - last;
  }

  /** The timestamp to send for a point recorded at `t`, in whole milliseconds as the API takes them. */
  timestampOf(t: number): number {
    return Math.round(t + this.shift);
  }

  /** The wall-clock instant at which the point recorded at `t` is due. */
  dueAt(t: number): number {
    return this.speed === Infinity ? this.start : this.start + (t - this.first) / this.speed;
  }
}
