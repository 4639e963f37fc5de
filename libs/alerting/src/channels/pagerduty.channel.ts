import { type Channel, type Delivery, type SendOutcome, wrongTarget } from '../channel';
import { type Notification, type Severity } from '../notification';
import { type OutboundHttp } from './outbound-http';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** Labels that name a group of systems, in the order PagerDuty's `group` is taken from. */
const GROUP_LABELS = ['service', 'job', 'app', 'cluster', 'host'] as const;
/** Labels that name the one affected system, for PagerDuty's `source`. */
const SOURCE_LABELS = ['host', 'instance', 'pod', 'node'] as const;

const SEVERITY: Record<Severity, 'critical' | 'warning' | 'info'> = {
  critical: 'critical',
  warning: 'warning',
  info: 'info',
};

export type PagerDutyEvent =
  | {
      routing_key: string;
      event_action: 'trigger';
      dedup_key: string;
      payload: {
        summary: string;
        source: string;
        severity: 'critical' | 'error' | 'warning' | 'info';
        timestamp: string;
        component?: string;
        group?: string;
        class: string;
        custom_details: Record<string, unknown>;
      };
      links: Array<{ href: string; text: string }>;
      client: 'Seismo';
      client_url?: string;
    }
  | { routing_key: string; event_action: 'resolve'; dedup_key: string };

/**
 * An Events API v2 event. The dedup_key is the incident's id, so every trigger of one
 * incident (opened, updated, renotified) folds into one PagerDuty alert and its resolve
 * closes it.
 */
export function pagerDutyEventOf(n: Notification, routingKey: string, publicUrl?: string): PagerDutyEvent {
  const dedupKey = n.incidentId.slice(0, 255);
  if (n.state === 'resolved')
    return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
  const shared = sharedLabels(n);
  const group = GROUP_LABELS.map((name) => shared[name]).find((v) => v !== undefined);
  const metrics = [...new Set(n.series.map((s) => s.metric))];
  const links = [
    ...(n.links.series ? [{ href: n.links.series, text: 'Series chart' }] : []),
    ...(n.links.feedback
      ? [
          { href: n.links.feedback.truePositive, text: 'Feedback: real anomaly' },
          { href: n.links.feedback.falsePositive, text: 'Feedback: false alarm' },
          { href: n.links.feedback.expected, text: 'Feedback: expected' },
        ]
      : []),
  ];
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: cut(n.title, 1024),
      source: cut(
        SOURCE_LABELS.map((name) => shared[name]).find((v) => v !== undefined) ??
          n.series[0]?.series ??
          'seismo',
        255,
      ),
      severity: SEVERITY[n.severity],
      timestamp: new Date(n.at).toISOString(),
      ...(metrics.length === 1 ? { component: metrics[0] } : {}),
      ...(group !== undefined ? { group } : {}),
      class: n.kind,
      custom_details: {
        summary: n.summary,
        state: n.state,
        incident_id: n.incidentId,
        opened_at: new Date(n.openedAt).toISOString(),
        series: n.series.slice(0, 20).map((s) => ({
          series: s.series,
          ts: new Date(s.ts).toISOString(),
          value: s.value,
          score: s.score,
        })),
        series_count: n.series.length,
        score: Math.max(0, ...n.series.map((s) => s.score)),
        anomaly_ids: n.anomalyIds.slice(0, 50),
      },
    },
    links,
    client: 'Seismo',
    ...(publicUrl ? { client_url: publicUrl } : {}),
  };
}

/** Sends to PagerDuty's Events API v2: 202 taken; 400 a bad event or key, never right later; 429 and 5xx again. */
export class PagerDutyChannel implements Channel {
  readonly kind = 'pagerduty' as const;

  constructor(
    private readonly http: OutboundHttp,
    private readonly publicUrl?: string,
  ) {}

  send(delivery: Delivery, signal: AbortSignal): Promise<SendOutcome> {
    const { target } = delivery;
    if (target.kind !== 'pagerduty') return Promise.resolve(wrongTarget(target, this.kind));
    return this.http.send({
      url: target.url ?? PAGERDUTY_EVENTS_URL,
      body: JSON.stringify(pagerDutyEventOf(delivery.notification, target.routingKey, this.publicUrl)),
      signal,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Seismo-PagerDuty/1',
        'idempotency-key': delivery.idempotencyKey,
      },
    });
  }
}

/** The labels every series of the notification has, with the same value. */
function sharedLabels(n: Notification): Record<string, string> {
  const [first, ...rest] = n.series;
  if (!first) return {};
  return Object.fromEntries(
    Object.entries(first.labels).filter(([name, value]) => rest.every((s) => s.labels[name] === value)),
  );
}

/** Never half a surrogate pair at the cut: a lone surrogate is not valid Unicode, and a 400 for it is never retried. */
function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).replace(/[\uD800-\uDBFF]$/, '')}…`;
}
