import { type ComparableResult } from './result';
import { mean, ratioOfMeansInterval, welchTTest } from './statistics';

/**
 * The arithmetic of the `overhead` benchmark (overhead.bench.ts): in which order its
 * processes run, and what its two arms' figures say about the 5% target.
 */

/** `guarded`: authentication, limits and metering as production runs them; `bare`: those calls no-ops. */
export const OVERHEAD_ARMS = ['guarded', 'bare'] as const;
export type OverheadArm = (typeof OVERHEAD_ARMS)[number];

/** The done-when: auth, limits and metering cost under 5% of ingest throughput. */
export const OVERHEAD_TARGET = 0.05;

/**
 * `pairs` processes of each arm, interleaved so that a change in the machine's load
 * (another engineer's build) falls on both arms alike, and alternating which arm of a
 * pair goes first (ABBAAB...), so that neither always runs in the other's wake (a warmer
 * page cache, a thermal state).
 */
export function overheadOrder(pairs: number): OverheadArm[] {
  if (!(Number.isSafeInteger(pairs) && pairs >= 1))
    throw new RangeError(`pairs must be a positive integer, got ${pairs}`);
  const order: OverheadArm[] = [];
  for (let pair = 0; pair < pairs; pair++) {
    order.push(...(pair % 2 === 0 ? (['guarded', 'bare'] as const) : (['bare', 'guarded'] as const)));
  }
  return order;
}

export type OverheadVerdict = 'pass' | 'fail' | 'inconclusive';

export interface OverheadShare {
  /** 1 - mean(guarded) / mean(bare): the share of throughput the three pieces cost. */
  readonly share: number;
  /** Its 95% confidence interval (Fieller's, on the ratio of means); null when unbounded. */
  readonly interval: { readonly low: number; readonly high: number } | null;
  /** Welch's two-sided p-value for "the arms run at the same rate". */
  readonly p: number;
  /**
   * `pass`: the whole interval is below the target; `fail`: the whole interval is above
   * it; `inconclusive`: it straddles the target (or is unbounded): more runs are needed.
   */
  readonly verdict: OverheadVerdict;
}

/**
 * The throughput share lost to the guarded arm's extra work, from each arm's samples
 * (points/s, one per process: runs within a process share its JIT and heap, so they are
 * not independent samples). A negative share means the guarded arm ran faster: noise.
 */
export function overheadShare(
  guarded: readonly number[],
  bare: readonly number[],
  target = OVERHEAD_TARGET,
): OverheadShare {
  if (guarded.length < 2 || bare.length < 2)
    throw new RangeError(`each arm needs at least 2 samples, got ${guarded.length} and ${bare.length}`);
  const ratio = ratioOfMeansInterval(guarded, bare);
  const interval = ratio ? { low: 1 - ratio.high, high: 1 - ratio.low } : null;
  const verdict: OverheadVerdict =
    interval === null
      ? 'inconclusive'
      : interval.high < target
        ? 'pass'
        : interval.low > target
          ? 'fail'
          : 'inconclusive';
  return { share: 1 - mean(guarded) / mean(bare), interval, p: welchTTest(guarded, bare).p, verdict };
}

/** The guarded arm's micro-benchmarks: each piece alone, per request or per point. */
export interface ComponentCosts {
  readonly authNsPerRequest: number;
  readonly admitNsPerRequest: number;
  readonly seriesBudgetNsPerPoint: number;
  readonly tallyNsPerPoint: number;
  readonly usageWriteNsPerPoint: number;
}

export interface ComponentShares {
  /** Each piece's ns per point (per-request costs spread over the request's points). */
  readonly nsPerPoint: Readonly<Record<keyof ComponentCosts, number>>;
  /** Their sum over the whole path's ns per point: the micro-benchmarks' estimate of the share. */
  readonly share: number;
}

/**
 * Where the cost goes: each piece's ns per point over the full path's ns per point
 * (1e9 / its points/s), so the shares add up, and compare with the A/B's share.
 */
export function componentShares(
  costs: ComponentCosts,
  requestPoints: number,
  pathPointsPerSecond: number,
): ComponentShares {
  if (!(requestPoints > 0)) throw new RangeError(`requestPoints must be positive, got ${requestPoints}`);
  if (!(pathPointsPerSecond > 0))
    throw new RangeError(`pathPointsPerSecond must be positive, got ${pathPointsPerSecond}`);
  const nsPerPoint = {
    authNsPerRequest: costs.authNsPerRequest / requestPoints,
    admitNsPerRequest: costs.admitNsPerRequest / requestPoints,
    seriesBudgetNsPerPoint: costs.seriesBudgetNsPerPoint,
    tallyNsPerPoint: costs.tallyNsPerPoint,
    usageWriteNsPerPoint: costs.usageWriteNsPerPoint,
  };
  let sum = 0;
  for (const ns of Object.values(nsPerPoint)) sum += ns;
  return { nsPerPoint, share: sum / (1e9 / pathPointsPerSecond) };
}

/** The summary line of an overhead run, after its per-process lines. */
export interface OverheadSummary {
  readonly benchmark: 'overhead-summary';
  readonly target: number;
  /** Judged on the whole path: points/s stored. */
  readonly verdict: OverheadVerdict;
  readonly path: OverheadShare;
  /** The same for points/s accepted (the last 202), the ingest side as clients see it. */
  readonly accepted: OverheadShare;
  /** Per arm, each process's mean points/s of the whole path: the samples compared. */
  readonly samples: Readonly<Record<OverheadArm, readonly number[]>>;
  /** The micro-benchmarks' estimate, pooled over the guarded processes (medians of their costs). */
  readonly components: ComponentShares | null;
}

const COMPONENT_FIGURES: readonly (keyof ComponentCosts)[] = [
  'authNsPerRequest',
  'admitNsPerRequest',
  'seriesBudgetNsPerPoint',
  'tallyNsPerPoint',
  'usageWriteNsPerPoint',
];

/**
 * Reads the per-process lines of the overhead benchmark (other lines are skipped) and
 * judges the target. One sample per process: the mean of its timed runs.
 */
export function summarizeOverhead(
  results: readonly ComparableResult[],
  target = OVERHEAD_TARGET,
): OverheadSummary {
  const lines = results.filter((r) => r.benchmark === 'overhead');
  const arm = (name: OverheadArm): readonly ComparableResult[] => lines.filter((r) => r.params.arm === name);
  const samples = (name: OverheadArm, figureName: string): number[] =>
    arm(name).map((r) => {
      const f = r.figures[figureName];
      if (!f) throw new Error(`an overhead line of arm ${name} has no '${figureName}'`);
      return mean(f.runs);
    });
  const share = (figureName: string): OverheadShare =>
    overheadShare(samples('guarded', figureName), samples('bare', figureName), target);
  const path = share('pointsPerSecond');
  const guarded = samples('guarded', 'pointsPerSecond');
  const requestPoints = Number(arm('guarded')[0]?.params.requestPoints);
  const withCosts = arm('guarded').filter((r) => COMPONENT_FIGURES.every((name) => r.figures[name]));
  let components: ComponentShares | null = null;
  if (withCosts.length > 0) {
    const costs = Object.fromEntries(
      COMPONENT_FIGURES.map((name) => [name, median(withCosts.map((r) => mean(r.figures[name].runs)))]),
    ) as unknown as ComponentCosts;
    components = componentShares(costs, requestPoints, mean(guarded));
  }
  return {
    benchmark: 'overhead-summary',
    target,
    verdict: path.verdict,
    path,
    accepted: share('acceptedPointsPerSecond'),
    samples: { guarded, bare: samples('bare', 'pointsPerSecond') },
    components,
  };
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
