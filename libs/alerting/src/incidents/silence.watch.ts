import { type TenantId } from '@seismo/storage';

/** When a series counts as gone silent. One policy for the deployment. */
export interface SilencePolicy {
  /** Arrivals a series needs before its cadence is trusted: a new series is never "silent". */
  readonly minArrivals: number;
  /** A series is silent after this many of its usual gaps without an arrival... */
  readonly silentAfterGaps: number;
  /** ...and never sooner than this. */
  readonly minSilenceMs: number;
  /**
   * Only series that report regularly are watched: the mean absolute deviation of their
   * gaps must stay under this fraction of the mean gap (a series pushed on a schedule, not
   * one written when something happens).
   */
  readonly maxGapVariation: number;
  /** A series silent this long is forgotten (a host taken down for good), its incident resolved. */
  readonly forgetAfterMs: number;
  /** Most series watched per tenant; arrivals of more are counted in `unwatched`. */
  readonly maxSeriesPerTenant: number;
}

export const DEFAULT_SILENCE_POLICY: SilencePolicy = {
  minArrivals: 10,
  silentAfterGaps: 5,
  minSilenceMs: 2 * 60_000,
  maxGapVariation: 0.5,
  forgetAfterMs: 24 * 3_600_000,
  maxSeriesPerTenant: 100_000,
};

/** The newest point of one series in a request the API accepted. */
export interface SeriesArrival {
  readonly series: string;
  /** Epoch milliseconds of the point. */
  readonly ts: number;
  readonly value: number;
}

/** A series that stopped reporting, as the incident tracker opens it. */
export interface SilentSeries {
  readonly tenantId: TenantId;
  readonly series: string;
  /** The last point it reported. */
  readonly lastTs: number;
  readonly lastValue: number;
  /** Clock time of its last arrival. */
  readonly lastArrivalAt: number;
  /** Its usual gap between arrivals, in milliseconds. */
  readonly usualGapMs: number;
}

/** What time alone changed: series gone silent, and series silent so long they are no longer watched. */
export interface SilenceChanges {
  readonly silent: SilentSeries[];
  readonly forgotten: SilentSeries[];
}

interface Watched {
  arrivals: number;
  lastArrivalAt: number;
  /** Exponentially weighted mean gap and mean absolute deviation of the gaps, milliseconds. */
  meanGap: number;
  gapDeviation: number;
  lastTs: number;
  lastValue: number;
  silent: boolean;
}

/** Weight of the newest gap in the running mean: about the last 16 gaps count. */
const GAP_WEIGHT = 1 / 16;

/**
 * Watches when each series arrives and says when one that reported regularly goes
 * silent, and when it reports again.
 *
 * The cadence is learned from arrival times on the process clock, not from point
 * timestamps: a backfill pushing a year of points in a minute arrives often, and its end
 * is a silence like any other. Per series: the arrival count, an exponentially weighted
 * mean gap and mean absolute deviation of the gaps (O(1) per arrival, a few numbers each).
 * A series is silent once `max(minSilenceMs, silentAfterGaps x mean gap)` passed without an
 * arrival, if it had `minArrivals` and its gaps were regular (deviation under
 * `maxGapVariation` of the mean). Arrivals within one millisecond of each other are one
 * arrival (one request carrying many points). Memory is bounded by `maxSeriesPerTenant`.
 */
export class SilenceWatch {
  private readonly policy: SilencePolicy;
  private readonly tenants = new Map<TenantId, Map<string, Watched>>();
  /** Arrivals of series beyond a tenant's `maxSeriesPerTenant`, not watched. */
  unwatched = 0;

  constructor(policy: Partial<SilencePolicy> = {}) {
    this.policy = validatePolicy({ ...DEFAULT_SILENCE_POLICY, ...policy });
  }

  /**
   * Takes the arrivals of one accepted request; returns the series among them that had
   * gone silent and now report again.
   */
  seen(tenant: TenantId, arrivals: readonly SeriesArrival[], now: number): SilentSeries[] {
    let series = this.tenants.get(tenant);
    if (!series) {
      series = new Map();
      this.tenants.set(tenant, series);
    }
    const resumed: SilentSeries[] = [];
    for (const arrival of arrivals) {
      const watched = series.get(arrival.series);
      if (!watched) {
        if (series.size >= this.policy.maxSeriesPerTenant) {
          this.unwatched++;
          continue;
        }
        series.set(arrival.series, {
          arrivals: 1,
          lastArrivalAt: now,
          meanGap: 0,
          gapDeviation: 0,
          lastTs: arrival.ts,
          lastValue: arrival.value,
          silent: false,
        });
        continue;
      }
      if (watched.silent) {
        resumed.push(silentOf(tenant, arrival.series, watched));
        watched.silent = false;
        // The silence is no gap of its cadence: the cadence is learned again from here.
        watched.arrivals = 1;
        watched.meanGap = 0;
        watched.gapDeviation = 0;
      } else {
        const gap = now - watched.lastArrivalAt;
        if (gap >= 1) learnGap(watched, gap);
      }
      watched.lastArrivalAt = now;
      if (arrival.ts >= watched.lastTs) {
        watched.lastTs = arrival.ts;
        watched.lastValue = arrival.value;
      }
    }
    return resumed;
  }

  /** Series that went silent since the last tick, and those silent past `forgetAfterMs`. */
  tick(now: number): SilenceChanges {
    const silent: SilentSeries[] = [];
    const forgotten: SilentSeries[] = [];
    for (const [tenant, series] of this.tenants) {
      for (const [name, watched] of series) {
        const quiet = now - watched.lastArrivalAt;
        if (quiet >= this.policy.forgetAfterMs) {
          series.delete(name);
          if (watched.silent) forgotten.push(silentOf(tenant, name, watched));
        } else if (!watched.silent && this.regular(watched) && quiet >= this.silenceOf(watched)) {
          watched.silent = true;
          silent.push(silentOf(tenant, name, watched));
        }
      }
      if (series.size === 0) this.tenants.delete(tenant);
    }
    return { silent, forgotten };
  }

  /**
   * Takes back a series a previous process knew as silent (its open no_data incident was
   * restored), so that its next arrival resumes it and a silence past `forgetAfterMs` (from
   * its last arrival) forgets it. Its cadence is learned again once it reports. Nothing when
   * the series is watched already or the tenant has no room.
   */
  restoreSilent(silent: SilentSeries): void {
    let series = this.tenants.get(silent.tenantId);
    if (!series) {
      series = new Map();
      this.tenants.set(silent.tenantId, series);
    }
    if (series.has(silent.series) || series.size >= this.policy.maxSeriesPerTenant) return;
    series.set(silent.series, {
      arrivals: 0,
      lastArrivalAt: silent.lastArrivalAt,
      meanGap: silent.usualGapMs,
      gapDeviation: 0,
      lastTs: silent.lastTs,
      lastValue: silent.lastValue,
      silent: true,
    });
  }

  /** Series watched for a tenant. */
  watchedOf(tenant: TenantId): number {
    return this.tenants.get(tenant)?.size ?? 0;
  }

  /** Forgets a tenant's series (its data was erased, or it has no subscription left). */
  forgetTenant(tenant: TenantId): void {
    this.tenants.delete(tenant);
  }

  private regular(watched: Watched): boolean {
    return (
      watched.arrivals >= this.policy.minArrivals &&
      watched.gapDeviation <= this.policy.maxGapVariation * watched.meanGap
    );
  }

  private silenceOf(watched: Watched): number {
    return Math.max(this.policy.minSilenceMs, this.policy.silentAfterGaps * watched.meanGap);
  }
}

function learnGap(watched: Watched, gap: number): void {
  watched.arrivals++;
  if (watched.arrivals === 2) {
    watched.meanGap = gap;
    return;
  }
  // The deviation is measured against the mean before this gap moved it.
  watched.gapDeviation += GAP_WEIGHT * (Math.abs(gap - watched.meanGap) - watched.gapDeviation);
  watched.meanGap += GAP_WEIGHT * (gap - watched.meanGap);
}

function silentOf(tenantId: TenantId, series: string, watched: Watched): SilentSeries {
  return {
    tenantId,
    series,
    lastTs: watched.lastTs,
    lastValue: watched.lastValue,
    lastArrivalAt: watched.lastArrivalAt,
    usualGapMs: Math.round(watched.meanGap),
  };
}

function validatePolicy(policy: SilencePolicy): SilencePolicy {
  const least = { minArrivals: 2, maxSeriesPerTenant: 1 } as const;
  for (const name of ['minArrivals', 'maxSeriesPerTenant'] as const) {
    if (!(Number.isInteger(policy[name]) && policy[name] >= least[name])) {
      throw new RangeError(
        `silence policy ${name} must be an integer of at least ${least[name]}, got ${policy[name]}`,
      );
    }
  }
  for (const name of ['minSilenceMs', 'forgetAfterMs'] as const) {
    if (!(Number.isInteger(policy[name]) && policy[name] > 0)) {
      throw new RangeError(
        `silence policy ${name} must be a positive integer of milliseconds, got ${policy[name]}`,
      );
    }
  }
  for (const name of ['silentAfterGaps', 'maxGapVariation'] as const) {
    if (!(Number.isFinite(policy[name]) && policy[name] > 0)) {
      throw new RangeError(`silence policy ${name} must be a positive number, got ${policy[name]}`);
    }
  }
  if (policy.forgetAfterMs <= policy.minSilenceMs) {
    throw new RangeError('silence policy forgetAfterMs must be longer than minSilenceMs');
  }
  return { ...policy };
}
