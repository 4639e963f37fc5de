import { type AnomalyTriage } from '@seismo/llm/verdict';
import { type TenantId } from '@seismo/storage';

/** How bad, as the engine grades an anomaly's score (0.9 critical, 0.7 warning, else info). */
export type Severity = 'info' | 'warning' | 'critical';
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

/** What an incident is about: anomalies of its series, or a series that stopped reporting. */
export type IncidentKind = 'anomaly' | 'no_data';

/**
 * The change a notification tells of. An incident notifies each channel once per
 * change: when it opens, when it gets worse (updated), again every re-notify interval
 * while it stays open (renotified), and when its series are back to normal (resolved).
 */
export type IncidentState = 'opened' | 'updated' | 'renotified' | 'resolved';

/** One series of a notification, at its latest anomalous point. */
export interface NotifiedSeries {
  /** The canonical series key (`cpu{host="a"}`). */
  readonly series: string;
  readonly metric: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Epoch milliseconds of the latest anomalous point (of the last point seen, for no_data). */
  readonly ts: number;
  readonly value: number;
  readonly score: number;
  /** The detectors that fired on it (what a subscription's `detectors` filter matches). */
  readonly detectors?: readonly string[];
  /** What LLM triage said of the point; absent when the tenant has no triage. */
  readonly triage?: AnomalyTriage;
}

/** Where a person goes from an alert. Absent when the deployment has no public URL configured. */
export interface NotificationLinks {
  /** A chart of the series around the incident. */
  readonly series?: string;
  /** One-click feedback on the incident's latest anomaly. */
  readonly feedback?: {
    readonly truePositive: string;
    readonly falsePositive: string;
    readonly expected: string;
  };
}

/**
 * What every channel renders, in its own shape (webhook JSON, Slack blocks, email text and
 * HTML, PagerDuty event): one incident's change of state, for one or several series that
 * went anomalous together and share labels.
 */
export interface Notification {
  /** Deterministic: the incident and its change (`<incident>:<state>:<sequence>`), the same on every retry. */
  readonly id: string;
  readonly tenantId: TenantId;
  readonly incidentId: string;
  readonly kind: IncidentKind;
  readonly state: IncidentState;
  readonly severity: Severity;
  /** One line, e.g. `cpu{host="web-1"} anomalous (critical)`. */
  readonly title: string;
  /** One or two sentences for a person. */
  readonly summary: string;
  /** Epoch milliseconds. */
  readonly openedAt: number;
  /** Epoch milliseconds: when this change happened. */
  readonly at: number;
  /** Epoch milliseconds, for `resolved`. */
  readonly resolvedAt?: number;
  readonly series: readonly NotifiedSeries[];
  readonly anomalyIds: readonly string[];
  readonly links: NotificationLinks;
}
