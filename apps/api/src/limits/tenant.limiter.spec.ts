import { parseTenantId } from '@seismo/storage';
import { PLANS, type TenantLimits } from '@seismo/tenancy';
import { LimitException } from './limit.exception';
import { LimitReason, type LimitStage } from './limit.reason';
import { TenantLimiter } from './tenant.limiter';

describe('TenantLimiter', () => {
  const acme = parseTenantId('acme');
  const globex = parseTenantId('globex');
  const limits: TenantLimits = { ...PLANS.free, requestsPerSecond: 1, requestsBurst: 2, maxSeries: 2 };
  let now = 0;
  let told: [string, string, LimitStage, number][];
  let limiter: TenantLimiter;

  beforeEach(() => {
    now = 0;
    told = [];
    limiter = new TenantLimiter({ rejected: (...args) => told.push(args) }, () => now);
  });

  const refusal = (fn: () => void): LimitException => {
    try {
      fn();
    } catch (error) {
      if (error instanceof LimitException) return error;
      throw error;
    }
    throw new Error('expected a LimitException');
  };

  it('refuses the request beyond the burst with a whole-second wait, and tells the listener', () => {
    limiter.admit(acme, limits, 1);
    limiter.admit(acme, limits, 1);
    const refused = refusal(() => limiter.admit(acme, limits, 1));
    expect(refused.limit).toBe(LimitReason.REQUESTS_PER_SECOND);
    expect(refused.retryAfterSeconds).toBe(1);
    expect(told).toEqual([['acme', 'requests_per_second', 'ingest', 1]]);
    // Another tenant's buckets are its own.
    limiter.admit(globex, limits, 1);
    now = 1000;
    limiter.admit(acme, limits, 1);
  });

  it('takes nothing from the request bucket when the point bucket refuses', () => {
    const tight = { ...limits, requestsBurst: 1, pointsPerSecond: 1, pointsBurst: 3 };
    limiter.admit(acme, tight, 3);
    now = 1000;
    expect(refusal(() => limiter.admit(acme, tight, 3)).limit).toBe(LimitReason.POINTS_PER_SECOND);
    // The request token refilled during the second is still there for a request that fits.
    limiter.admit(acme, tight, 1);
  });

  it('refuses points of new series beyond the limit by index, known ones pass', () => {
    // Points a, b, a, c, b, d, c: the limit of 2 lets a and b through.
    const points = { series: ['a', 'b', 'c', 'd'], seriesIndex: Uint32Array.of(0, 1, 0, 2, 1, 3, 2) };
    const refusals = limiter.refuseNewSeries(acme, limits, points);
    expect(refusals.map((r) => r.pointIndex)).toEqual([3, 5, 6]);
    expect(refusals[1].error).toMatch(
      /^series: 'd' is a new series and the tenant has reached its max_series limit of 2/,
    );
    expect(
      limiter.refuseNewSeries(acme, limits, { series: ['b'], seriesIndex: Uint32Array.of(0, 0) }),
    ).toEqual([]);
    expect(told).toEqual([['acme', 'max_series', 'ingest', 3]]);
  });
});
