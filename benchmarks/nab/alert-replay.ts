import {
  type Feedback,
  type FeedbackLabel,
  FeedbackSuppressor,
  type FeedbackSuppressorOptions,
  type IncidentPolicy,
  type IncidentState,
  IncidentTracker,
  type Notification,
  SEVERITIES,
  type Severity,
  signatureOf,
} from '@seismo/alerting';
import { type AnomalyRecord } from '@seismo/storage';
import { type EmittedAnomaly } from './anomaly-stream';
import { windowOf } from './feedback-tally';
import { type SimulatedOperator } from './feedback-operator';
import { type LabelWindow } from './scorer';

/** One series' anomalies, on the clock of its rows. */
export interface AlertReplayInput {
  readonly series: string;
  /** Every row's time: the replay's clock, on which incidents go quiet and labels arrive. */
  readonly timestamps: ArrayLike<number>;
  /** In row order. */
  readonly anomalies: readonly EmittedAnomaly[];
  /** What the operator looks at when judging an alert, never the detector. */
  readonly windows: readonly LabelWindow[];
}

export interface AlertReplayOptions {
  /** Who labels the alerts; absent, nobody does and nothing is suppressed (the baseline). */
  readonly operator?: SimulatedOperator;
  readonly suppressor?: FeedbackSuppressorOptions;
  readonly incidents?: Partial<IncidentPolicy>;
}

/** A notification a person received (every state but `resolved`), and what they made of it. */
export interface ReplayedAlert {
  readonly state: IncidentState;
  /** When it went out: the row time of the anomaly, or of the tick that renotified. */
  readonly at: number;
  /** The anomaly it tells of (the incident's latest), which its feedback link labels. */
  readonly anomalyId: string;
  readonly anomalyTs: number;
  readonly score: number;
  /** Index of the labelled window holding the anomaly, -1 when none does. */
  readonly window: number;
  readonly label?: FeedbackLabel;
}

export interface AlertReplay {
  readonly alerts: ReplayedAlert[];
  /** Anomalies the suppressor kept out of incidents. */
  suppressed: number;
  labels: { falsePositive: number; truePositive: number };
}

const OPERATOR_ACTOR = 'benchmark:operator';

/**
 * Plays a series' anomalies through the alert path as the API runs it (AlertingService):
 * each anomaly is first asked of the FeedbackSuppressor, and one not suppressed folds into
 * an incident (IncidentTracker), whose notifications are the alerts. The tracker ticks at
 * every row, so quiet time passes as the rows do. The operator judges each alert once it
 * fired; their label is learned when the clock reaches its time, and only later anomalies
 * can be suppressed by it.
 */
export function replayAlerts(input: AlertReplayInput, options: AlertReplayOptions = {}): AlertReplay {
  const tracker = new IncidentTracker(options.incidents ? { policy: options.incidents } : {});
  const { operator } = options;
  const suppressor = operator ? new FeedbackSuppressor(options.suppressor) : undefined;
  const replay: AlertReplay = { alerts: [], suppressed: 0, labels: { falsePositive: 0, truePositive: 0 } };
  const observed = new Map<string, AnomalyRecord>();
  // Due times grow with the alerts (one delay for all), so the queue stays in order.
  const pending: Array<{ at: number; feedback: Feedback }> = [];
  let learned = 0;
  let next = 0;

  const heard = (notifications: readonly Notification[], now: number) => {
    for (const n of notifications) {
      if (n.state === 'resolved' || n.kind !== 'anomaly') continue;
      // One series per incident here: its latest anomaly is the one the links label.
      const record = observed.get(n.anomalyIds[n.anomalyIds.length - 1]);
      if (!record) throw new Error(`notification ${n.id} names no anomaly observed`);
      const window = windowOf(input.windows, record.ts);
      const given = operator?.judge({ series: input.series, at: now, inWindow: window >= 0 });
      replay.alerts.push({
        state: n.state,
        at: now,
        anomalyId: record.id,
        anomalyTs: record.ts,
        score: record.score,
        window,
        ...(given ? { label: given.label } : {}),
      });
      if (!given) continue;
      if (given.label === 'false_positive') replay.labels.falsePositive++;
      else if (given.label === 'true_positive') replay.labels.truePositive++;
      pending.push({
        at: given.at,
        feedback: {
          tenantId: record.tenantId,
          anomalyId: record.id,
          series: record.series,
          anomalyTs: record.ts,
          label: given.label,
          actor: OPERATOR_ACTOR,
          createdAt: given.at,
          signature: signatureOf(record),
        },
      });
    }
  };

  for (let i = 0; i < input.timestamps.length; i++) {
    const now = input.timestamps[i];
    while (learned < pending.length && pending[learned].at <= now) {
      suppressor?.learn(pending[learned++].feedback);
    }
    heard(tracker.tick(now), now);
    for (; next < input.anomalies.length && input.anomalies[next].index === i; next++) {
      const { record } = input.anomalies[next];
      if (suppressor?.suppresses(record)) {
        replay.suppressed++;
        continue;
      }
      observed.set(record.id, record);
      heard(
        tracker.observe(
          {
            tenantId: record.tenantId,
            id: record.id,
            series: record.series,
            ts: record.ts,
            value: record.value,
            score: record.score,
            severity: severityOf(record.severity),
            detectors: record.detectors,
          },
          now,
        ),
        now,
      );
    }
  }
  if (next < input.anomalies.length) {
    throw new Error(`anomaly at row ${input.anomalies[next].index} is out of row order or past the series`);
  }
  return replay;
}

/** The engine grades severity in the words the alerting knows; anything else reads as info, as the API does. */
function severityOf(value: string): Severity {
  return (SEVERITIES as readonly string[]).includes(value) ? (value as Severity) : 'info';
}
