import { type FeedbackLabel } from '@seismo/alerting';

/** How the simulated person on call labels the alerts they receive. One policy for every file. */
export interface OperatorPolicy {
  /** False-positive alerts of a series labelled false_positive: the first this many; Infinity: every one. */
  readonly falsePositiveLabels: number;
  /** Whether an alert inside a labelled window gets true_positive (every such alert). */
  readonly labelTruePositives: boolean;
  /** Milliseconds from an alert to its label reaching the suppressor: alerts meanwhile are not covered. */
  readonly delayMs: number;
}

export const DEFAULT_OPERATOR_POLICY: OperatorPolicy = {
  falsePositiveLabels: 3,
  labelTruePositives: true,
  delayMs: 0,
};

/** Throws a RangeError naming the field when the policy cannot be followed. */
export function checkedPolicy(policy: OperatorPolicy): OperatorPolicy {
  const { falsePositiveLabels, delayMs } = policy;
  if (
    !(falsePositiveLabels === Number.POSITIVE_INFINITY || Number.isInteger(falsePositiveLabels)) ||
    falsePositiveLabels < 0
  ) {
    throw new RangeError(
      `falsePositiveLabels must be an integer >= 0 or Infinity, got ${falsePositiveLabels}`,
    );
  }
  if (!(Number.isFinite(delayMs) && delayMs >= 0)) {
    throw new RangeError(`delayMs must be a finite number >= 0, got ${delayMs}`);
  }
  return { ...policy };
}

/** An alert that has fired, as the operator looks at it. */
export interface FiredAlert {
  readonly series: string;
  /** When the alert went out, epoch milliseconds. */
  readonly at: number;
  /** Whether the anomaly it tells of lies inside a labelled NAB window of its series. */
  readonly inWindow: boolean;
}

/** A label the operator gives, and when the suppressor learns it. */
export interface GivenLabel {
  readonly label: FeedbackLabel;
  readonly at: number;
}

/**
 * A person on call, simulated deterministically. They look at an alert only after it
 * fired, and decide from what a person would find on looking (here: whether the anomaly
 * lies in a NAB window) whether it was real. The detectors never hear of it; the label
 * goes to the feedback suppressor, as a click on an alert's feedback link does.
 *
 * A false positive is labelled for the first `falsePositiveLabels` of each series (a
 * person labels a few and stops bothering); a true positive is labelled every time when
 * `labelTruePositives`. Either label arrives `delayMs` after the alert.
 */
export class SimulatedOperator {
  private readonly policy: OperatorPolicy;
  private readonly falsePositivesLabelled = new Map<string, number>();

  constructor(policy: OperatorPolicy = DEFAULT_OPERATOR_POLICY) {
    this.policy = checkedPolicy(policy);
  }

  /** The label given to an alert that fired, or undefined when the operator lets it be. */
  judge(alert: FiredAlert): GivenLabel | undefined {
    const at = alert.at + this.policy.delayMs;
    if (alert.inWindow) return this.policy.labelTruePositives ? { label: 'true_positive', at } : undefined;
    const labelled = this.falsePositivesLabelled.get(alert.series) ?? 0;
    if (labelled >= this.policy.falsePositiveLabels) return undefined;
    this.falsePositivesLabelled.set(alert.series, labelled + 1);
    return { label: 'false_positive', at };
  }
}
