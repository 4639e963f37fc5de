import { AlertingException, AlertingExceptionCode } from '../alerting.exception';
import { FEEDBACK_LABELS, type FeedbackLabel, isFeedbackLabel, MAX_FEEDBACK_NOTE } from './feedback';

/** A label as the API takes it, checked. */
export interface FeedbackInput {
  readonly label: FeedbackLabel;
  readonly note?: string;
}

const FIELDS = new Set(['label', 'note']);

/** `{label, note?}` from the API; INVALID_FEEDBACK naming the field at fault otherwise. */
export function validateFeedback(input: unknown): FeedbackInput {
  const refuse = (field: string, why: string) =>
    new AlertingException(AlertingExceptionCode.INVALID_FEEDBACK, `${field}: ${why}`, field);
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw refuse('body', 'expected an object {label, note?}');
  }
  const body = input as Record<string, unknown>;
  for (const key of Object.keys(body)) if (!FIELDS.has(key)) throw refuse(key, 'unknown field');
  if (!isFeedbackLabel(body.label)) throw refuse('label', `expected one of ${FEEDBACK_LABELS.join(', ')}`);
  if (body.note === undefined) return { label: body.label };
  if (typeof body.note !== 'string') throw refuse('note', 'expected a string');
  if (body.note.length > MAX_FEEDBACK_NOTE)
    throw refuse('note', `longer than ${MAX_FEEDBACK_NOTE} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(body.note)) {
    throw refuse('note', 'holds a control character');
  }
  return body.note.length > 0 ? { label: body.label, note: body.note } : { label: body.label };
}
