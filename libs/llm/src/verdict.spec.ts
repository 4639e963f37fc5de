import { LlmError, type LlmUsage } from './provider';
import {
  type AnomalyTriage,
  MAX_CAUSE_LENGTH,
  MAX_EXPLANATION_LENGTH,
  parseVerdict,
  readTriageJson,
  triageJson,
} from './verdict';

const USAGE: LlmUsage = { inputTokens: 812, outputTokens: 57 };

const ANSWER = {
  verdict: 'anomaly',
  severity: 'critical',
  explanation: 'Checkout latency tripled within a minute. Nothing like it in the past week.',
  likely_cause: 'a slow database',
  confidence: 0.85,
};

function malformed(output: unknown, usage?: LlmUsage): LlmError {
  try {
    parseVerdict(output, usage);
  } catch (error) {
    if (error instanceof LlmError) return error;
    throw error;
  }
  throw new Error(`parsed: ${JSON.stringify(output)}`);
}

describe('parseVerdict', () => {
  it('reads a valid answer into a verdict', () => {
    expect(parseVerdict(ANSWER, USAGE)).toEqual({
      verdict: 'anomaly',
      severity: 'critical',
      explanation: ANSWER.explanation,
      likelyCause: 'a slow database',
      confidence: 0.85,
    });
    expect(parseVerdict({ ...ANSWER, explanation: '  Fine.  ', likely_cause: '' })).toMatchObject({
      explanation: 'Fine.',
      likelyCause: '',
    });
  });

  it.each([
    ['verdict', { ...ANSWER, verdict: 'maybe' }],
    ['severity', { ...ANSWER, severity: 'high' }],
    ['explanation', { ...ANSWER, explanation: '   ' }],
    ['likely_cause', { ...ANSWER, likely_cause: undefined }],
    ['confidence', { ...ANSWER, confidence: 1.5 }],
    ['confidence', { ...ANSWER, confidence: '0.9' }],
  ])('calls an answer with a bad %s malformed, naming the field and carrying the usage', (field, output) => {
    const error = malformed(output, USAGE);
    expect(error.kind).toBe('malformed');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(`verdict's ${field}:`);
    expect(error.usage).toEqual(USAGE);
  });

  it('refuses extra fields and answers that are not an object', () => {
    expect(malformed({ ...ANSWER, ignore_previous: true }).message).toContain('ignore_previous');
    for (const output of ['anomaly', null, [ANSWER], 42]) {
      const error = malformed(output);
      expect(error.message).toContain("verdict's answer:");
      expect(error.usage).toBeUndefined();
    }
  });

  it('cuts the explanation to two sentences', () => {
    const three = 'Latency tripled. It started at 02:00! Was it the deploy? Probably.';
    expect(parseVerdict({ ...ANSWER, explanation: three }).explanation).toBe(
      'Latency tripled. It started at 02:00!',
    );
    const two = 'Latency tripled. It started at 02:00 and still lasts';
    expect(parseVerdict({ ...ANSWER, explanation: two }).explanation).toBe(two);
  });

  it('does not take a decimal point or a version for the end of a sentence', () => {
    const explanation =
      'CPU is 3.5 times its usual level since v2.14 rolled out. It started at 02:00. A deploy.';
    expect(parseVerdict({ ...ANSWER, explanation }).explanation).toBe(
      'CPU is 3.5 times its usual level since v2.14 rolled out. It started at 02:00.',
    );
  });

  it('clips a long explanation and cause to their limits, marking the cut', () => {
    const v = parseVerdict({
      ...ANSWER,
      explanation: `${'word '.repeat(300)}end.`,
      likely_cause: 'x'.repeat(500),
    });
    expect(v.explanation).toHaveLength(MAX_EXPLANATION_LENGTH);
    expect(v.explanation.endsWith('word…')).toBe(true);
    expect(v.likelyCause).toHaveLength(MAX_CAUSE_LENGTH);
    expect(v.likelyCause.endsWith('…')).toBe(true);
    const exact = 'y'.repeat(MAX_EXPLANATION_LENGTH);
    expect(parseVerdict({ ...ANSWER, explanation: exact }).explanation).toBe(exact);
  });
});

describe('triageJson and readTriageJson', () => {
  const done: AnomalyTriage = {
    status: 'done',
    verdict: 'expected',
    severity: 'info',
    explanation: 'The nightly backup.',
    likelyCause: 'backup job',
    confidence: 0.7,
    model: 'gpt-4o-mini-2024-07-18',
    cached: true,
  };

  it('stores a verdict in snake_case, without whether it came from the cache', () => {
    expect(triageJson(done)).toEqual({
      triage: 'done',
      verdict: 'expected',
      severity: 'info',
      explanation: 'The nightly backup.',
      likely_cause: 'backup job',
      confidence: 0.7,
      model: 'gpt-4o-mini-2024-07-18',
    });
    expect(triageJson({ status: 'skipped', reason: 'tenant_budget' })).toEqual({
      triage: 'skipped',
      reason: 'tenant_budget',
    });
  });

  it('reads back what it stored', () => {
    for (const triage of [done, { status: 'skipped', reason: 'circuit_open' } as const]) {
      const json = triageJson(triage);
      expect(readTriageJson(JSON.stringify(json))).toEqual(json);
    }
  });

  it('reads plain text, and JSON that is not a triage, as the explanation of an uncertain verdict', () => {
    for (const stored of [
      'Spike after the deploy.',
      '{"verdict":"anomaly"}',
      'null',
      '42',
      '{"triage":"later"}',
    ]) {
      expect(readTriageJson(stored)).toEqual({
        triage: 'done',
        verdict: 'uncertain',
        severity: 'info',
        explanation: stored,
        likely_cause: '',
        confidence: 0,
        model: 'unknown',
      });
    }
  });
});
