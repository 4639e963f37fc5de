import { type TenantId } from '@seismo/storage';
import { type Feedback, type FeedbackLabel, type FeedbackSignature, isQuietLabel } from './feedback';
import { signatureOf, type SignedAnomaly } from './feedback-signature';

/**
 * How long a label teaches by default: 3 days either side of its anomaly. A series' noise
 * changes (a deploy, a new workload), so a dismissal is not forever; `npm run nab:feedback`
 * shows what the span trades (README).
 */
export const DEFAULT_LABEL_AGE_MS = 3 * 86_400_000;

export interface FeedbackSuppressorOptions {
  /** Signatures kept per series (default 16): the oldest label goes first. */
  readonly maxPerSeries?: number;
  /** Series with signatures kept per tenant (default 10,000): the series labelled longest ago goes first. */
  readonly maxSeriesPerTenant?: number;
  /**
   * Relative slack on magnitudes (default 0.25): a deviation up to 25% larger than a false
   * positive's is still "the same", and one down to 1/1.25 of a true positive's is "as big".
   */
  readonly tolerance?: number;
  /** How long a label teaches, before or after its anomaly (default DEFAULT_LABEL_AGE_MS, 3 days). */
  readonly maxAgeMs?: number;
}

/** An anomaly the alert path is about to tell of: an AnomalyRecord is one. */
export interface SuppressionCandidate extends SignedAnomaly {
  readonly tenantId: TenantId;
  readonly series: string;
}

/** Why a candidate stays quiet: the anomaly whose false_positive or expected label covers it. */
export interface Suppression {
  readonly by: string;
}

interface Learned {
  readonly anomalyId: string;
  /** Epoch milliseconds of the labelled anomaly. */
  readonly ts: number;
  readonly label: FeedbackLabel;
  readonly signature: FeedbackSignature;
}

/**
 * What feedback taught each series, in bounded memory, asked synchronously by the alert path.
 *
 * A candidate is suppressed when a false_positive or expected signature of its series has
 * the same direction, shares a detector, is at least as large (within the tolerance) and
 * scored at least as high: the same deviation, or a smaller one of that shape that the
 * detector finds no more unusual, no longer alerts. The score counts because the magnitude
 * sees only the context window (8 points) while the detector weighs the series' history:
 * a point that is small against the 8 before it but that the detector rates above a
 * dismissed one (a level held too long, a value off its season) is not "less of the same".
 * It is never suppressed when a true_positive signature of its series with the same
 * direction and a shared detector is no larger than it (within the tolerance): a deviation
 * as big as one confirmed real always alerts, whichever label came first. A candidate whose
 * direction cannot be told (no context) always alerts.
 */
export class FeedbackSuppressor {
  private readonly tenants = new Map<TenantId, Map<string, Learned[]>>();
  private readonly maxPerSeries: number;
  private readonly maxSeriesPerTenant: number;
  private readonly slack: number;
  private readonly maxAgeMs: number;

  constructor(options: FeedbackSuppressorOptions = {}) {
    this.maxPerSeries = positiveInteger(options.maxPerSeries ?? 16, 'maxPerSeries');
    this.maxSeriesPerTenant = positiveInteger(options.maxSeriesPerTenant ?? 10_000, 'maxSeriesPerTenant');
    const tolerance = options.tolerance ?? 0.25;
    if (!(tolerance >= 0 && tolerance <= 10))
      throw new RangeError(`tolerance must be in [0, 10], got ${tolerance}`);
    this.slack = 1 + tolerance;
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_LABEL_AGE_MS;
    if (!(this.maxAgeMs > 0)) throw new RangeError(`maxAgeMs must be above 0, got ${this.maxAgeMs}`);
  }

  /** Takes a label (replacing any earlier label of the same anomaly). */
  learn(
    feedback: Pick<Feedback, 'tenantId' | 'series' | 'anomalyId' | 'label' | 'signature' | 'anomalyTs'>,
  ): void {
    let series = this.tenants.get(feedback.tenantId);
    if (!series) {
      series = new Map();
      this.tenants.set(feedback.tenantId, series);
    }
    const learned = (series.get(feedback.series) ?? []).filter((l) => l.anomalyId !== feedback.anomalyId);
    learned.push({
      anomalyId: feedback.anomalyId,
      label: feedback.label,
      signature: feedback.signature,
      ts: feedback.anomalyTs,
    });
    if (learned.length > this.maxPerSeries) learned.splice(0, learned.length - this.maxPerSeries);
    // Re-inserted last: the map's order is the order series were last labelled in.
    series.delete(feedback.series);
    series.set(feedback.series, learned);
    if (series.size > this.maxSeriesPerTenant) series.delete(series.keys().next().value!);
  }

  /** Forgets what a tenant taught (an erased tenant). */
  forgetTenant(tenant: TenantId): void {
    this.tenants.delete(tenant);
  }

  /** Signatures held for a series, oldest label first. */
  signaturesOf(tenant: TenantId, series: string): number {
    return this.tenants.get(tenant)?.get(series)?.length ?? 0;
  }

  /** Series with signatures held for a tenant. */
  seriesOf(tenant: TenantId): number {
    return this.tenants.get(tenant)?.size ?? 0;
  }

  /** Whether feedback keeps this anomaly from alerting, and which label does. Synchronous, no I/O. */
  suppresses(candidate: SuppressionCandidate): Suppression | undefined {
    const learned = this.tenants.get(candidate.tenantId)?.get(candidate.series);
    if (!learned || learned.length === 0) return undefined;
    const recent = learned.filter((l) => Math.abs(candidate.ts - l.ts) <= this.maxAgeMs);
    if (recent.length === 0) return undefined;
    return this.suppressesSignature(recent, signatureOf(candidate));
  }

  private suppressesSignature(
    learned: readonly Learned[],
    signature: FeedbackSignature,
  ): Suppression | undefined {
    if (signature.direction === 0) return undefined;
    let by: string | undefined;
    for (const l of learned) {
      const s = l.signature;
      if (s.direction !== signature.direction || !sharesDetector(s.detectors, signature.detectors)) continue;
      if (isQuietLabel(l.label)) {
        // Scores compared at the stored (Float32) precision: a reloaded label still covers its own anomaly.
        if (
          signature.magnitude <= s.magnitude * this.slack &&
          Math.fround(signature.score) <= Math.fround(s.score)
        )
          by = l.anomalyId;
      } else if (signature.magnitude * this.slack >= s.magnitude) return undefined;
    }
    return by === undefined ? undefined : { by };
  }
}

function sharesDetector(a: readonly string[], b: readonly string[]): boolean {
  return a.some((d) => b.includes(d));
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
