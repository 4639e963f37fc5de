import { type TenantId } from '@seismo/storage';

/**
 * What a person says of an anomaly: it was real (true_positive), it was not (false_positive),
 * or it was real but nobody needs telling (expected: a deploy, a batch job, a known peak).
 */
export type FeedbackLabel = 'true_positive' | 'false_positive' | 'expected';
export const FEEDBACK_LABELS: readonly FeedbackLabel[] = ['true_positive', 'false_positive', 'expected'];

export function isFeedbackLabel(value: unknown): value is FeedbackLabel {
  return typeof value === 'string' && (FEEDBACK_LABELS as readonly string[]).includes(value);
}

/** Longest note a label may carry. */
export const MAX_FEEDBACK_NOTE = 1000;

/**
 * The shape of an anomaly's deviation, as feedback learns it: what the suppressor compares
 * a new anomaly of the same series against (feedback-signature.ts computes it).
 */
export interface FeedbackSignature {
  /** 1: above what the context window holds; -1: below; 0: no deviation (a flat or empty context). */
  readonly direction: 1 | -1 | 0;
  /** |value - median| in robust units of the context's spread; 0 when it cannot be told. */
  readonly magnitude: number;
  /** The detectors that flagged it, sorted. */
  readonly detectors: readonly string[];
  readonly score: number;
}

/** The latest label of one anomaly, with the signature of the anomaly it teaches. */
export interface Feedback {
  readonly tenantId: TenantId;
  readonly anomalyId: string;
  readonly series: string;
  /** Epoch milliseconds of the anomaly. */
  readonly anomalyTs: number;
  readonly label: FeedbackLabel;
  readonly note?: string;
  /** Who gave it, as the audit log names actors (`member:mem_...`, `service-key:key_...`, `feedback-link`). */
  readonly actor: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly signature: FeedbackSignature;
}

/** A label that teaches to stay quiet: the deviation was not worth telling anyone about. */
export function isQuietLabel(label: FeedbackLabel): boolean {
  return label === 'false_positive' || label === 'expected';
}
