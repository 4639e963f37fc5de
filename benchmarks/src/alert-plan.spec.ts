import { alertPlan, type AlertPlanOptions } from './alert-plan';

const TEN_K: AlertPlanOptions = {
  rate: 10_000,
  seconds: 60,
  requestPoints: 1000,
  injectionsPerSecond: 10,
  leadSeconds: 5,
  maxInjections: 3000,
};

describe('alertPlan', () => {
  it('paces 10k points/s as 10 requests of 1000 a second, an injection in each after the lead', () => {
    const plan = alertPlan(TEN_K);
    expect(plan.requests).toBe(600);
    expect(plan.intervalMs).toBe(100);
    // 5 s of lead is 50 requests; the other 550 carry one injection each.
    expect(plan.injectAt).toHaveLength(550);
    expect(plan.injectAt[0]).toBe(50);
    expect(plan.injectAt[549]).toBe(599);
  });

  it('spreads fewer injections than requests evenly, in ascending requests', () => {
    const plan = alertPlan({ ...TEN_K, seconds: 10, leadSeconds: 0, injectionsPerSecond: 2 });
    expect(plan.injectAt).toEqual([
      0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95,
    ]);
  });

  it('never puts two injections in one request, nor more than the cap', () => {
    const crowded = alertPlan({ ...TEN_K, seconds: 2, leadSeconds: 0, injectionsPerSecond: 100 });
    expect(crowded.injectAt).toEqual(Array.from({ length: 20 }, (_, j) => j));
    const capped = alertPlan({ ...TEN_K, seconds: 3600, maxInjections: 3000 });
    expect(capped.injectAt).toHaveLength(3000);
    expect(new Set(capped.injectAt).size).toBe(3000);
    expect(capped.injectAt.at(-1)).toBeLessThan(capped.requests);
  });

  it('injects at least once, in the last request when the run is shorter than a stride', () => {
    const plan = alertPlan({ ...TEN_K, seconds: 1, leadSeconds: 0.95, injectionsPerSecond: 1 });
    expect(plan.requests).toBe(10);
    expect(plan.injectAt).toEqual([9]);
  });

  it('refuses a rate, length or size that is not positive, and a lead as long as the run', () => {
    expect(() => alertPlan({ ...TEN_K, rate: 0 })).toThrow('rate');
    expect(() => alertPlan({ ...TEN_K, requestPoints: Number.NaN })).toThrow('requestPoints');
    expect(() => alertPlan({ ...TEN_K, leadSeconds: 60 })).toThrow('leadSeconds');
    expect(() => alertPlan({ ...TEN_K, maxInjections: 0 })).toThrow('maxInjections');
  });
});
