import { type TenantId } from '@seismo/storage';
import { type ChannelTarget } from '../channel';
import { type Severity, SEVERITIES } from '../notification';
import { globMatch } from './glob';

/**
 * Which anomalies a subscription (or a silence) is about. Every field given must match;
 * an empty filter matches everything.
 */
export interface SeriesMatchers {
  /** A glob on the metric name (`http_*`), or on the whole series key when it holds `{`. */
  readonly series?: string;
  /**
   * Label name to a glob its value must match (`{"host": "web-*"}`); a leading `!`
   * negates (`{"env": "!dev"}`: no env label, or one that is not dev).
   */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface SubscriptionFilter extends SeriesMatchers {
  /** The least severity that notifies (info < warning < critical). */
  readonly minSeverity?: Severity;
  /** The least anomaly score that notifies, 0..1. */
  readonly minScore?: number;
  /** Notifies only when one of these detectors fired. */
  readonly detectors?: readonly string[];
}

export interface Subscription {
  readonly id: string;
  readonly tenantId: TenantId;
  readonly name: string;
  /** The member it belongs to, who may list and mute it; absent for the tenant's own. */
  readonly ownerMemberId?: string;
  readonly filter: SubscriptionFilter;
  readonly target: ChannelTarget;
  /** Most notifications it sends in any hour; the rest are counted, not sent. */
  readonly ratePerHour: number;
  /** Epoch milliseconds: nothing is sent until then. */
  readonly mutedUntil?: number;
  /** Epoch milliseconds. */
  readonly createdAt: number;
}

/** A maintenance window: what matches it does not notify between `startsAt` and `endsAt`. */
export interface Silence {
  readonly id: string;
  readonly tenantId: TenantId;
  readonly matchers: SeriesMatchers;
  /** Epoch milliseconds. */
  readonly startsAt: number;
  readonly endsAt: number;
  readonly comment: string;
  /** Who made it, as the audit log names actors (`member:mem_...`, `service-key:key_...`, `deployment-admin`). */
  readonly createdBy: string;
  readonly createdAt: number;
}

/** What a filter or silence is matched against: an anomaly of a series. */
export interface AlertCandidate {
  /** The canonical series key. */
  readonly series: string;
  readonly metric: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly severity: Severity;
  readonly score: number;
  readonly detectors: readonly string[];
}

export const DEFAULT_RATE_PER_HOUR = 60;
export const MAX_RATE_PER_HOUR = 3600;

export function matchesSeries(
  matchers: SeriesMatchers,
  candidate: Pick<AlertCandidate, 'series' | 'metric' | 'labels'>,
): boolean {
  if (matchers.series !== undefined) {
    const subject = matchers.series.includes('{') ? candidate.series : candidate.metric;
    if (!globMatch(matchers.series, subject)) return false;
  }
  for (const [name, pattern] of Object.entries(matchers.labels ?? {})) {
    const value = candidate.labels[name];
    if (pattern.startsWith('!')) {
      if (value !== undefined && globMatch(pattern.slice(1), value)) return false;
    } else if (value === undefined || !globMatch(pattern, value)) return false;
  }
  return true;
}

export function matchesFilter(filter: SubscriptionFilter, candidate: AlertCandidate): boolean {
  if (filter.minSeverity !== undefined && rank(candidate.severity) < rank(filter.minSeverity)) return false;
  if (filter.minScore !== undefined && candidate.score < filter.minScore) return false;
  if (filter.detectors !== undefined && !filter.detectors.some((d) => candidate.detectors.includes(d)))
    return false;
  return matchesSeries(filter, candidate);
}

/** The silence in force at `now` that covers the candidate's series, if any. */
export function silenceOf(
  silences: readonly Silence[],
  candidate: Pick<AlertCandidate, 'series' | 'metric' | 'labels'>,
  now: number,
): Silence | undefined {
  return silences.find((s) => s.startsAt <= now && now < s.endsAt && matchesSeries(s.matchers, candidate));
}

export function rank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** A subscription's target as listings show it: a webhook's signing secret is shown once, at creation. */
export function publicTarget(target: ChannelTarget): Record<string, unknown> {
  switch (target.kind) {
    case 'webhook':
      return { url: target.url };
    case 'slack':
      // A Slack webhook's path is its secret: anyone holding it can post to the channel.
      return { url: `${new URL(target.url).origin}/...` };
    case 'email':
      return { to: [...target.to] };
    case 'pagerduty':
      return {
        routing_key: `${target.routingKey.slice(0, 4)}...`,
        ...(target.url ? { url: target.url } : {}),
      };
  }
}
