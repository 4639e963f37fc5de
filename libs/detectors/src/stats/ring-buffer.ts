// Layout of the state array: five scalars, then the values.
const COUNT = 0;
const HEAD = 1;
const REF = 2;
const SUM = 3;
const SUM_SQ = 4;
const HEADER = 5;

/**
 * The last `capacity` values of a series, with running sums that give their mean and
 * variance in O(1) per point. Everything lives in one Float64Array, so a detector can
 * snapshot it as it is and restore it without a conversion.
 *
 * The sums are of deviations from a reference near the window's mean, not of the raw
 * values: a series at 1e9 with unit noise would otherwise lose every digit of its
 * variance to cancellation. Every add and remove still rounds, so once per lap of the
 * buffer the sums are rebuilt from the values (and the reference re-centred), and at once
 * when the mean has moved far from the reference relative to the spread.
 */
export class RingBuffer {
  /**
   * Why `state` cannot be the state of a buffer of `capacity` values, or undefined if it
   * can. A restore checks this so a corrupt checkpoint fails instead of scoring garbage.
   */
  static invalidState(state: Float64Array, capacity: number): string | undefined {
    if (state.length !== HEADER + capacity) {
      return `has length ${state.length}, expected ${HEADER + capacity}`;
    }
    const count = state[COUNT];
    const head = state[HEAD];
    if (!Number.isInteger(count) || count < 0 || count > capacity) return `holds an invalid count ${count}`;
    if (!Number.isInteger(head) || head < 0 || head >= capacity) return `holds an invalid head ${head}`;
    if (count < capacity && head !== count) return `head ${head} does not follow count ${count}`;
    for (let i = HEADER; i < HEADER + count; i++) {
      if (!Number.isFinite(state[i])) return `holds a non-finite value at ${i - HEADER}`;
    }
    return undefined;
  }

  readonly state: Float64Array;

  constructor(
    readonly capacity: number,
    state?: Float64Array,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`ring buffer capacity must be a positive integer, got ${capacity}`);
    }
    this.state = state ?? new Float64Array(HEADER + capacity);
    const why = RingBuffer.invalidState(this.state, capacity);
    if (why) throw new RangeError(`ring buffer state ${why}`);
  }

  /** How many values the buffer holds: grows to `capacity`, then stays there. */
  get count(): number {
    return this.state[COUNT];
  }

  /** Appends `value`, evicting the oldest value once the buffer is full. */
  push(value: number): void {
    const s = this.state;
    const head = s[HEAD];
    if (s[COUNT] === 0) s[REF] = value;
    const ref = s[REF];
    const added = value - ref;
    if (s[COUNT] === this.capacity) {
      const removed = s[HEADER + head] - ref;
      s[SUM] += added - removed;
      s[SUM_SQ] += added * added - removed * removed;
    } else {
      s[COUNT]++;
      s[SUM] += added;
      s[SUM_SQ] += added * added;
    }
    s[HEADER + head] = value;
    const next = head + 1 === this.capacity ? 0 : head + 1;
    s[HEAD] = next;
    // NaN means a square overflowed to Infinity and has since been taken out again
    // (Infinity - Infinity); rebuilding gives back finite sums as soon as no value in
    // the window is that large.
    if (next === 0 || Number.isNaN(s[SUM_SQ]) || this.offCentre()) this.rebuild();
  }

  /** The `age`-th most recent value: 0 is the last one pushed. */
  at(age: number): number {
    const s = this.state;
    if (!(age >= 0 && age < s[COUNT])) throw new RangeError(`age ${age} is outside 0..${s[COUNT] - 1}`);
    const index = s[HEAD] - 1 - age;
    return s[HEADER + (index < 0 ? index + this.capacity : index)];
  }

  /** Mean of the values held; 0 when empty. */
  mean(): number {
    const s = this.state;
    return s[COUNT] === 0 ? 0 : s[REF] + s[SUM] / s[COUNT];
  }

  /** Sample variance (divisor count - 1) of the values held; 0 with fewer than two. */
  variance(): number {
    const s = this.state;
    const n = s[COUNT];
    if (n < 2) return 0;
    const sumSq = s[SUM_SQ];
    // Values beyond about 1e154 overflow the squares; the spread is then beyond float64 too.
    if (sumSq === Infinity) return Infinity;
    const sum = s[SUM];
    // sum · (sum / n) <= sumSq, so unlike sum² it cannot overflow. Rounding can leave a
    // hair below zero when every value is equal.
    return Math.max(0, (sumSq - sum * (sum / n)) / (n - 1));
  }

  /**
   * True when the reference sits more than 100 spreads from the window's mean, as after
   * a level change: the variance then comes from subtracting two nearly equal sums and
   * would lose (offset / spread)² of its precision. Re-centring right away bounds that loss
   * at 1e4 ulps instead of waiting up to a lap.
   */
  private offCentre(): boolean {
    const s = this.state;
    const n = s[COUNT];
    const offset = s[SUM] / n;
    const offsetSq = offset * offset;
    return offsetSq > 1e4 * (s[SUM_SQ] / n - offsetSq);
  }

  private rebuild(): void {
    const s = this.state;
    const n = s[COUNT];
    let total = 0;
    for (let i = 0; i < n; i++) total += s[HEADER + i];
    const ref = Number.isFinite(total) ? total / n : 0;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const d = s[HEADER + i] - ref;
      sum += d;
      sumSq += d * d;
    }
    s[REF] = ref;
    s[SUM] = sum;
    s[SUM_SQ] = sumSq;
  }
}
