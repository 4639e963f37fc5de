import fc from 'fast-check';
import { TokenBucket } from './token-bucket';

describe('TokenBucket', () => {
  it('starts full, takes what a request costs and refuses what it does not have', () => {
    const bucket = new TokenBucket(10, 20, 0);
    expect(bucket.tryTake(15, 0)).toBe(true);
    expect(bucket.tryTake(6, 0)).toBe(false);
    expect(bucket.available(0)).toBe(5);
  });

  it('refills at its rate, never above its size', () => {
    const bucket = new TokenBucket(10, 20, 0);
    bucket.tryTake(20, 0);
    expect(bucket.available(500)).toBeCloseTo(5);
    expect(bucket.available(60_000)).toBe(20);
  });

  it('says how long until a cost fits, and that wait is enough', () => {
    const bucket = new TokenBucket(1, 20, 0);
    bucket.tryTake(15, 0);
    expect(bucket.waitMs(10, 0)).toBe(5000);
    expect(bucket.tryTake(10, 4999)).toBe(false);
    expect(bucket.tryTake(10, 5000)).toBe(true);
  });

  it('answers a cost above its size with the wait for a full bucket', () => {
    const bucket = new TokenBucket(2, 10, 0);
    bucket.tryTake(10, 0);
    expect(bucket.waitMs(50, 0)).toBe(5000);
  });

  it('refills nothing when the clock goes back', () => {
    const bucket = new TokenBucket(10, 20, 1000);
    bucket.tryTake(20, 1000);
    expect(bucket.available(0)).toBe(0);
    expect(bucket.available(1100)).toBeCloseTo(1);
  });

  it('keeps its tokens, capped, when reconfigured', () => {
    const bucket = new TokenBucket(10, 100, 0);
    bucket.reconfigure(1, 5);
    expect(bucket.available(0)).toBe(5);
    expect(() => bucket.reconfigure(0, 5)).toThrow(/rate must be a positive number/);
  });

  it('never lets through more than its size plus its rate times the time elapsed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 1, max: 500 })), {
          maxLength: 200,
        }),
        (rate, capacity, requests) => {
          const bucket = new TokenBucket(rate, capacity, 0);
          let now = 0;
          let taken = 0;
          for (const [gap, cost] of requests) {
            now += gap;
            const wait = bucket.waitMs(cost, now);
            const took = bucket.tryTake(cost, now);
            // A wait of 0 and a successful take are the same answer.
            expect(took).toBe(wait === 0 && cost <= capacity);
            if (took) taken += cost;
          }
          expect(taken).toBeLessThanOrEqual(capacity + (rate * now) / 1000 + 1e-6);
        },
      ),
    );
  });
});
