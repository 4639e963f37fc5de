/**
 * The range a metric has covered lately, kept in three slots of a detector's state
 * array (high, low, level, from `at`). The high and low are the extremes seen, each
 * relaxing towards an EW level at 1/memory per point, so one old excursion does not
 * widen the range for ever, while `memory` points of history still count.
 */
export const RANGE_SLOTS = 3;
export const RANGE_HIGH = 0;
export const RANGE_LOW = 1;
export const RANGE_LEVEL = 2;

export class RunningRange {
  private readonly relax: number;
  private readonly levelRate: number;

  constructor(
    memory: number,
    private readonly at: number,
  ) {
    this.relax = 1 / memory;
    this.levelRate = 10 / memory;
  }

  /** Takes `value` into the range; the first value starts it. */
  learn(s: Float64Array, value: number, first: boolean): void {
    const high = this.at + RANGE_HIGH;
    const low = this.at + RANGE_LOW;
    const level = this.at + RANGE_LEVEL;
    if (first) {
      s[high] = value;
      s[low] = value;
      s[level] = value;
      return;
    }
    s[level] += this.levelRate * (value - s[level]);
    s[high] -= this.relax * (s[high] - s[level]);
    s[low] += this.relax * (s[level] - s[low]);
    if (value > s[high]) s[high] = value;
    if (value < s[low]) s[low] = value;
  }

  high(s: Float64Array): number {
    return s[this.at + RANGE_HIGH];
  }

  low(s: Float64Array): number {
    return s[this.at + RANGE_LOW];
  }

  level(s: Float64Array): number {
    return s[this.at + RANGE_LEVEL];
  }
}
