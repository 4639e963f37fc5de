import fc from 'fast-check';
import {
  checkLimitOverrides,
  checkPlan,
  LIMIT_NAMES,
  MAX_LIMIT,
  parseStoredOverrides,
  PLAN_NAMES,
  PLANS,
  resolveLimits,
} from './limits';
import { TenancyException } from './tenancy.exception';

describe('plans and limits', () => {
  it('orders the plans: each allows at least what the one below does', () => {
    for (const name of LIMIT_NAMES) {
      expect(PLANS.free[name]).toBeLessThanOrEqual(PLANS.team[name]);
      expect(PLANS.team[name]).toBeLessThanOrEqual(PLANS.enterprise[name]);
    }
  });

  it("gives a burst no smaller than its rate, so a second's worth always fits", () => {
    for (const plan of PLAN_NAMES) {
      expect(PLANS[plan].pointsBurst).toBeGreaterThanOrEqual(PLANS[plan].pointsPerSecond);
      expect(PLANS[plan].requestsBurst).toBeGreaterThanOrEqual(PLANS[plan].requestsPerSecond);
    }
  });

  it("resolves to the plan's limits with exactly the overrides on top", () => {
    const override = fc.record(
      Object.fromEntries(LIMIT_NAMES.map((n) => [n, fc.integer({ min: 1, max: MAX_LIMIT })])),
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.constantFrom(...PLAN_NAMES), override, (plan, overrides) => {
        const limits = resolveLimits(plan, overrides);
        for (const name of LIMIT_NAMES) {
          expect(limits[name]).toBe(overrides[name] ?? PLANS[plan][name]);
        }
      }),
    );
  });

  it('refuses an unknown plan, an unknown limit and an out-of-range value, naming the field', () => {
    expect(() => checkPlan('gold')).toThrow(/plan must be one of free, team, enterprise/);
    const unknown = (() => {
      try {
        checkLimitOverrides({ maxCats: 3 });
      } catch (error) {
        return error;
      }
    })();
    expect(unknown).toBeInstanceOf(TenancyException);
    expect((unknown as TenancyException).field).toBe('limits.maxCats');
    expect(() => checkLimitOverrides({ maxSeries: 0 })).toThrow(/limits.maxSeries must be an integer in 1/);
    expect(() => checkLimitOverrides({ pointsBurst: 1.5 })).toThrow(/pointsBurst/);
    expect(() => checkLimitOverrides({ pointsBurst: MAX_LIMIT + 1 })).toThrow(/pointsBurst/);
    expect(checkLimitOverrides({ maxSeries: 5 })).toEqual({ maxSeries: 5 });
  });

  it('reads stored overrides, falling back to none rather than failing on a bad row', () => {
    expect(parseStoredOverrides('{"maxSeries":5}')).toEqual({ maxSeries: 5 });
    expect(parseStoredOverrides('')).toEqual({});
    expect(parseStoredOverrides('not json')).toEqual({});
  });
});
