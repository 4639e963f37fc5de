import { type PointBatch } from '@seismo/pipeline';
import { type TenantId } from '@seismo/storage';
import { LIMIT_FIELDS, type TenantLimits } from '@seismo/tenancy';
import { LimitException, LimitExceptionCode } from './limit.exception';
import { LimitReason, type LimitRejectionListener } from './limit.reason';
import { TokenBucket } from './token-bucket';

/** One tenant's buckets and the series this process has let through for it. */
interface TenantState {
  readonly requests: TokenBucket;
  readonly points: TokenBucket;
  readonly series: Set<string>;
}

/** A point refused because it starts a series beyond the limit: its index among the request's points. */
export interface SeriesRefusal {
  readonly pointIndex: number;
  readonly error: string;
}

/**
 * A tenant's limits at ingest, in this API process.
 *
 * Rates: two token buckets per tenant, requests and points. A request passes only if
 * both have what it costs, and then takes from both; otherwise it takes nothing and is
 * refused with the longer wait, rounded up to whole seconds (Retry-After). Per request,
 * not per point: a Map lookup and a few additions. Each API process holds its own
 * buckets: behind a load balancer spreading a tenant over N processes, the tenant's
 * rate is up to N times its limit (documented; a shared counter would put a network
 * round trip on every request).
 *
 * Series: the series names this process has let through per tenant, at most the
 * tenant's limit of them (bounded memory). A point of a series not among them once the
 * set is full is refused, its neighbours go on. Exact within one process since it
 * started; a restarted process learns the series again as they arrive, so right after
 * a restart a tenant could add new ones up to the limit once more: the engine, whose
 * count survives restarts in its checkpoints, is the backstop and dead-letters them.
 * Behind a load balancer every API process sees (nearly) all of a tenant's series, so
 * each one's count approximates the tenant's total.
 */
export class TenantLimiter {
  private readonly states = new Map<TenantId, TenantState>();

  constructor(
    private readonly listener: LimitRejectionListener,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Takes one request and `points` points from the tenant's buckets, or throws LimitException. */
  admit(tenant: TenantId, limits: TenantLimits, points: number): void {
    const now = this.clock();
    const state = this.stateOf(tenant, limits, now);
    if (points > limits.pointsBurst) {
      this.listener.rejected(tenant, LimitReason.POINTS_BURST, 'ingest', points);
      throw new LimitException(
        LimitExceptionCode.BURST_EXCEEDED,
        LimitReason.POINTS_BURST,
        `the request holds ${points} points and the tenant's ${LIMIT_FIELDS.pointsBurst} limit is ` +
          `${limits.pointsBurst}: split it into smaller requests`,
      );
    }
    const requestWait = state.requests.waitMs(1, now);
    const pointWait = state.points.waitMs(points, now);
    if (requestWait === 0 && pointWait === 0) {
      state.requests.tryTake(1, now);
      state.points.tryTake(points, now);
      return;
    }
    const byRequests = requestWait >= pointWait;
    const reason = byRequests ? LimitReason.REQUESTS_PER_SECOND : LimitReason.POINTS_PER_SECOND;
    this.listener.rejected(tenant, reason, 'ingest', byRequests ? 1 : points);
    const retryAfterSeconds = Math.max(1, Math.ceil(Math.max(requestWait, pointWait) / 1000));
    throw new LimitException(
      LimitExceptionCode.RATE_LIMITED,
      reason,
      byRequests
        ? `more than ${limits.requestsPerSecond} requests a second (burst ${limits.requestsBurst}): ` +
            `the tenant's ${LIMIT_FIELDS.requestsPerSecond} limit; retry in ${retryAfterSeconds} s`
        : `${points} points would exceed ${limits.pointsPerSecond} points a second (burst ${limits.pointsBurst}): ` +
            `the tenant's ${LIMIT_FIELDS.pointsPerSecond} limit; retry in ${retryAfterSeconds} s`,
      retryAfterSeconds,
    );
  }

  /**
   * The points of a request (its PointBatch: each series named once, in the order the
   * points first name it) that would start a series beyond the tenant's limit, by point
   * index, ascending; the others' series are remembered as let through. Each series is
   * looked up once a request, however many of its points the request holds.
   */
  refuseNewSeries(
    tenant: TenantId,
    limits: TenantLimits,
    points: Pick<PointBatch, 'series' | 'seriesIndex'>,
  ): SeriesRefusal[] {
    const state = this.stateOf(tenant, limits, this.clock());
    const known = state.series;
    const { series, seriesIndex } = points;
    let refusedSeries: Uint8Array | undefined;
    for (let s = 0; s < series.length; s++) {
      const name = series[s];
      if (known.has(name)) continue;
      if (known.size < limits.maxSeries) {
        known.add(name);
        continue;
      }
      (refusedSeries ??= new Uint8Array(series.length))[s] = 1;
    }
    if (!refusedSeries) return [];
    const refused: SeriesRefusal[] = [];
    for (let i = 0; i < seriesIndex.length; i++) {
      if (refusedSeries[seriesIndex[i]] === 0) continue;
      refused.push({
        pointIndex: i,
        error:
          `series: '${series[seriesIndex[i]]}' is a new series and the tenant has reached its ` +
          `${LIMIT_FIELDS.maxSeries} limit of ${limits.maxSeries} series; known series are still taken`,
      });
    }
    this.listener.rejected(tenant, LimitReason.MAX_SERIES, 'ingest', refused.length);
    return refused;
  }

  private stateOf(tenant: TenantId, limits: TenantLimits, now: number): TenantState {
    let state = this.states.get(tenant);
    if (!state) {
      state = {
        requests: new TokenBucket(limits.requestsPerSecond, limits.requestsBurst, now),
        points: new TokenBucket(limits.pointsPerSecond, limits.pointsBurst, now),
        series: new Set(),
      };
      this.states.set(tenant, state);
    } else {
      // Limits change rarely; reconfigure compares two numbers and returns when they did not.
      state.requests.reconfigure(limits.requestsPerSecond, limits.requestsBurst);
      state.points.reconfigure(limits.pointsPerSecond, limits.pointsBurst);
    }
    return state;
  }
}
