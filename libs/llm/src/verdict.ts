import { z } from 'zod';
import { parseAnswer } from './answer';
import { type JsonSchema, type LlmUsage } from './provider';
import { type SkipReason } from './triage.scheduler';

export const VERDICTS = ['anomaly', 'expected', 'uncertain'] as const;
export type VerdictKind = (typeof VERDICTS)[number];

export const TRIAGE_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type TriageSeverity = (typeof TRIAGE_SEVERITIES)[number];

/** What the LLM says of one candidate anomaly. */
export interface TriageVerdict {
  readonly verdict: VerdictKind;
  readonly severity: TriageSeverity;
  /** At most two sentences. */
  readonly explanation: string;
  readonly likelyCause: string;
  /** 0..1. */
  readonly confidence: number;
}

export const MAX_EXPLANATION_LENGTH = 400;
export const MAX_CAUSE_LENGTH = 200;

/** The answer's schema as the providers take it: strict, every property required, nothing else. */
export const VERDICT_SCHEMA_NAME = 'anomaly_verdict';
export const VERDICT_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    verdict: {
      type: 'string',
      enum: [...VERDICTS],
      description: 'anomaly: a real problem; expected: normal for this series (a known pattern); uncertain',
    },
    severity: { type: 'string', enum: [...TRIAGE_SEVERITIES] },
    explanation: { type: 'string', description: 'At most two sentences, for an operator.' },
    likely_cause: { type: 'string', description: 'A few words.' },
    confidence: { type: 'number', description: '0 to 1' },
  },
  required: ['verdict', 'severity', 'explanation', 'likely_cause', 'confidence'],
  additionalProperties: false,
};

const answer = z
  .object({
    verdict: z.enum(VERDICTS),
    severity: z.enum(TRIAGE_SEVERITIES),
    explanation: z.string().trim().min(1),
    likely_cause: z.string().trim(),
    confidence: z.number().min(0).max(1),
  })
  .strict();

/**
 * The verdict in an answer's JSON, or a `malformed` LlmError naming what is wrong. Text
 * is cut to its limits (an explanation to two sentences), never trusted to be short.
 */
export function parseVerdict(output: unknown, usage?: LlmUsage): TriageVerdict {
  const v = parseAnswer(answer, output, 'verdict', usage);
  return {
    verdict: v.verdict,
    severity: v.severity,
    explanation: clip(twoSentences(v.explanation), MAX_EXPLANATION_LENGTH),
    likelyCause: clip(v.likely_cause, MAX_CAUSE_LENGTH),
    confidence: v.confidence,
  };
}

function twoSentences(text: string): string {
  // A stop not followed by a space (3.5, v2.14) is inside its sentence, not the end of one.
  const sentences = text.match(/(?:[^.!?]|[.!?](?!\s|$))+[.!?]+(?=\s|$)/g);
  if (!sentences || sentences.length <= 2) return text;
  return sentences.slice(0, 2).join('').trim();
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

/** Why an anomaly went out without a verdict: the scheduler's skip reasons. */
export type TriageSkipReason = SkipReason;

/**
 * What triage made of an anomaly, as stored with it (the `explanation` column, JSON),
 * shown in its alerts and answered by the API (field `explanation`).
 */
export type AnomalyTriage =
  | ({ readonly status: 'done'; readonly model: string; readonly cached: boolean } & TriageVerdict)
  | { readonly status: 'skipped'; readonly reason: TriageSkipReason };

/** The API's and the column's shape: snake_case, one JSON object. */
export type AnomalyTriageJson =
  | {
      readonly triage: 'done';
      readonly verdict: VerdictKind;
      readonly severity: TriageSeverity;
      readonly explanation: string;
      readonly likely_cause: string;
      readonly confidence: number;
      readonly model: string;
    }
  | { readonly triage: 'skipped'; readonly reason: TriageSkipReason };

export function triageJson(triage: AnomalyTriage): AnomalyTriageJson {
  if (triage.status === 'skipped') return { triage: 'skipped', reason: triage.reason };
  return {
    triage: 'done',
    verdict: triage.verdict,
    severity: triage.severity,
    explanation: triage.explanation,
    likely_cause: triage.likelyCause,
    confidence: triage.confidence,
    model: triage.model,
  };
}

/**
 * A stored `explanation` read back: the triage JSON this code writes, or, for text that is
 * not (an explanation written some other way), that text as the explanation of an
 * `uncertain` verdict by an unknown model, so nothing stored is lost on the way out.
 */
export function readTriageJson(stored: string): AnomalyTriageJson {
  try {
    const parsed = JSON.parse(stored) as Partial<Record<string, unknown>>;
    if (parsed && (parsed.triage === 'done' || parsed.triage === 'skipped'))
      return parsed as AnomalyTriageJson;
  } catch {
    // plain text: below
  }
  return {
    triage: 'done',
    verdict: 'uncertain',
    severity: 'info',
    explanation: stored,
    likely_cause: '',
    confidence: 0,
    model: 'unknown',
  };
}
