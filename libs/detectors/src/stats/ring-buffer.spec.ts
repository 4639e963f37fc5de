import { gaussian, mulberry32 } from '../testing/series';
import { RingBuffer } from './ring-buffer';

/**
 * The reference: two-pass mean and sample variance of the last `capacity` values, the
 * second pass corrected for the rounding of the first (Bjorck's corrected two-pass).
 */
function bruteForce(values: ArrayLike<number>, capacity: number): { mean: number; variance: number } {
  const window = Array.from(values).slice(-capacity);
  const n = window.length;
  const mean = window.reduce((a, b) => a + b, 0) / n;
  let squares = 0;
  let residue = 0;
  for (const v of window) {
    squares += (v - mean) * (v - mean);
    residue += v - mean;
  }
  return { mean, variance: n < 2 ? 0 : (squares - (residue * residue) / n) / (n - 1) };
}

/**
 * |actual - expected| within `relative` of expected, plus an absolute slack of
 * `relative` times `scale`: a window of values that happen to be nearly equal has a
 * variance far below the rounding error of its squares, and no method is relatively
 * accurate there.
 */
function expectClose(actual: number, expected: number, relative: number, scale = 0): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * (Math.abs(expected) + scale));
}

describe('RingBuffer', () => {
  it.each([1, 2, 3, 128])('matches a two-pass computation at every point (capacity %i)', (capacity) => {
    const rand = mulberry32(capacity);
    const buffer = new RingBuffer(capacity);
    const values: number[] = [];
    // A large offset is where summing raw values would lose every digit of the variance.
    for (let i = 0; i < 2000; i++) {
      const value = 1e9 + 3 * gaussian(rand);
      buffer.push(value);
      values.push(value);
      const { mean, variance } = bruteForce(values, capacity);
      expect(buffer.count).toBe(Math.min(i + 1, capacity));
      expectClose(buffer.mean(), mean, 1e-12);
      expectClose(buffer.variance(), variance, 1e-9, 1e-3 * 3 * 3);
    }
  });

  it('does not drift over a million points, even across thousand-fold changes of scale', () => {
    // Every loud segment leaves rounding error in the sums the size of its own squares,
    // which is a large relative error for the quiet segment after it: without the
    // per-lap rebuild that error would pile up over the thousand segments.
    const capacity = 128;
    const rand = mulberry32(11);
    const buffer = new RingBuffer(capacity);
    const recent = new Float64Array(capacity);
    let checked = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const segment = Math.floor(i / 1000);
      const loud = segment % 2 === 0;
      const value = loud ? 1e6 + 1e4 * gaussian(rand) : -3e5 + 5 * gaussian(rand);
      buffer.push(value);
      recent[i % capacity] = value;
      // Check at the end of each quiet segment, when the loud values left many laps ago.
      if (!loud && i % 1000 === 999) {
        const { mean, variance } = bruteForce(recent, capacity);
        expectClose(buffer.mean(), mean, 1e-12);
        expectClose(buffer.variance(), variance, 1e-9);
        checked++;
      }
    }
    expect(checked).toBe(500);
  });

  it('recovers finite statistics once values too large to square have left', () => {
    const buffer = new RingBuffer(8);
    const values = [1, 2, 3, 1e300, -1e300, 4, 5, 6, 7, 8, 9, 10, 11];
    for (const v of values) buffer.push(v);
    // The huge values were pushed 4th and 5th and evicted by the 12th and 13th push,
    // before the buffer's next scheduled rebuild at the 16th.
    expect(buffer.variance()).toBe(bruteForce(values, 8).variance);
    expect(buffer.mean()).toBe(7.5);
  });

  it('reports infinite variance, not NaN, while such values are inside', () => {
    const buffer = new RingBuffer(8);
    for (const v of [1, 1e300, 2]) buffer.push(v);
    expect(buffer.variance()).toBe(Infinity);
  });

  it('returns values by age', () => {
    const buffer = new RingBuffer(3);
    for (const v of [1, 2, 3, 4, 5]) buffer.push(v);
    expect([buffer.at(0), buffer.at(1), buffer.at(2)]).toEqual([5, 4, 3]);
    expect(() => buffer.at(3)).toThrow(RangeError);
    expect(() => new RingBuffer(3).at(0)).toThrow(RangeError);
  });

  it('resumes from its state array exactly', () => {
    const a = new RingBuffer(5);
    for (let i = 0; i < 13; i++) a.push(i * i);
    const b = new RingBuffer(5, a.state.slice());
    for (let i = 13; i < 40; i++) {
      a.push(Math.sqrt(i));
      b.push(Math.sqrt(i));
      expect(b.mean()).toBe(a.mean());
      expect(b.variance()).toBe(a.variance());
    }
  });

  it('explains why a state array cannot be its state', () => {
    const valid = new RingBuffer(4);
    valid.push(1);
    valid.push(2);
    expect(RingBuffer.invalidState(valid.state, 4)).toBeUndefined();
    const broken = (patch: (s: Float64Array) => void): Float64Array => {
      const s = valid.state.slice();
      patch(s);
      return s;
    };
    expect(RingBuffer.invalidState(new Float64Array(8), 4)).toMatch(/length 8, expected 9/);
    expect(
      RingBuffer.invalidState(
        broken((s) => (s[0] = 5)),
        4,
      ),
    ).toMatch(/count 5/);
    expect(
      RingBuffer.invalidState(
        broken((s) => (s[0] = 1.5)),
        4,
      ),
    ).toMatch(/count 1.5/);
    expect(
      RingBuffer.invalidState(
        broken((s) => (s[1] = 4)),
        4,
      ),
    ).toMatch(/head 4/);
    expect(
      RingBuffer.invalidState(
        broken((s) => (s[1] = 3)),
        4,
      ),
    ).toMatch(/does not follow/);
    expect(
      RingBuffer.invalidState(
        broken((s) => (s[6] = NaN)),
        4,
      ),
    ).toMatch(/non-finite value at 1/);
    expect(() => new RingBuffer(4, new Float64Array(3))).toThrow(RangeError);
    expect(() => new RingBuffer(0)).toThrow(RangeError);
  });
});
