import { type AnomalyTriage, type TriageVerdict } from '@seismo/llm';
import { type AnomalyRecord, parseTenantId } from '@seismo/storage';
import { type EmittedAnomaly } from './anomaly-stream';
import { type ScoredSeries, tallyTriagedFile, totalTriage, usageFigures } from './triage-tally';

const tenantId = parseTenantId('nab');
const STEP = 300_000;
const T0 = Date.UTC(2014, 0, 1);

/** 200 rows five minutes apart, one labelled window over rows 50..60. */
function file(name = 'a/b.csv'): ScoredSeries {
  return {
    name,
    timestamps: Float64Array.from({ length: 200 }, (_, i) => T0 + i * STEP),
    windows: [{ start: T0 + 50 * STEP, end: T0 + 60 * STEP }],
  };
}

function anomaly(index: number, severity: string): EmittedAnomaly {
  const ts = T0 + index * STEP;
  const record: AnomalyRecord = {
    tenantId,
    id: `a${index}`,
    series: 'a/b.csv',
    ts,
    value: 1,
    score: 0.8,
    severity,
    detectors: ['ensemble'],
    context: { ts: [ts], values: [1] },
    explanation: null,
    revision: 0,
    createdAt: ts,
    retentionDays: 30,
  };
  return { index, record };
}

function done(verdict: TriageVerdict['verdict'], severity: TriageVerdict['severity'], cached = false) {
  return {
    status: 'done',
    verdict,
    severity,
    explanation: 'x.',
    likelyCause: '',
    confidence: 0.9,
    model: 'm',
    cached,
  } as const satisfies AnomalyTriage;
}

const timeout: AnomalyTriage = { status: 'skipped', reason: 'timeout' };

describe('tallyTriagedFile', () => {
  // Rows 10 and 150 are outside the window, 55 inside; far enough apart (10 min resolves) to be three incidents.
  const anomalies = [anomaly(10, 'warning'), anomaly(55, 'critical'), anomaly(150, 'warning')];
  const triages: AnomalyTriage[] = [done('expected', 'info', true), done('anomaly', 'info'), timeout];

  it('scores the alerts without triage, and with it under suppress and downgrade', () => {
    const t = tallyTriagedFile(file(), anomalies, triages);
    expect(t.name).toBe('a/b.csv');
    expect(t.windows).toBe(1);
    expect(t.candidates).toBe(3);
    expect(t.withoutTriage).toEqual({
      alerts: 3,
      tp: 1,
      fp: 2,
      windowsDetected: 1,
      precision: 1 / 3,
      recall: 1,
    });
    expect(t.withTriage.suppress).toEqual({
      alerts: 2,
      tp: 1,
      fp: 1,
      windowsDetected: 1,
      precision: 0.5,
      recall: 1,
      quiet: 1,
      // Row 55: the verdict's info under the engine's critical; row 150 was skipped and keeps its own.
      lowered: 1,
      fpRemoved: 1,
      tpRemoved: 0,
      windowsLost: 0,
      windowsGained: 0,
    });
    // Downgrade sends the expected one as info: still an alert.
    expect(t.withTriage.downgrade).toMatchObject({
      alerts: 3,
      tp: 1,
      fp: 2,
      quiet: 0,
      lowered: 2,
      fpRemoved: 0,
    });
  });

  it('counts the verdicts, inside and outside the windows, and the skips by reason', () => {
    const { verdicts } = tallyTriagedFile(file(), anomalies, triages);
    expect(verdicts).toMatchObject({ anomaly: 1, expected: 1, uncertain: 0, skipped: 1, cached: 1 });
    expect(verdicts.insideWindows).toEqual({ anomaly: 1, expected: 0, uncertain: 0, skipped: 0 });
    expect(verdicts.outsideWindows).toEqual({ anomaly: 0, expected: 1, uncertain: 0, skipped: 1 });
    expect(verdicts.skippedBy.timeout).toBe(1);
    expect(Object.values(verdicts.skippedBy).reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('loses a window when an anomaly inside it is suppressed as expected', () => {
    const t = tallyTriagedFile(file(), anomalies, [timeout, done('expected', 'warning'), timeout]);
    expect(t.withTriage.suppress).toMatchObject({
      alerts: 2,
      tp: 0,
      fp: 2,
      windowsDetected: 0,
      precision: 0,
      recall: 0,
      tpRemoved: 1,
      windowsLost: 1,
    });
    expect(t.withTriage.downgrade).toMatchObject({ alerts: 3, tp: 1, windowsDetected: 1, windowsLost: 0 });
  });

  it('downgrade changes severity only: an incident no longer getting worse is told once', () => {
    // Two anomalies five minutes apart, one incident: info then critical is opened + updated.
    const close = [anomaly(20, 'info'), anomaly(21, 'critical')];
    const t = tallyTriagedFile(file(), close, [timeout, done('expected', 'critical')]);
    expect(t.withoutTriage.alerts).toBe(2);
    expect(t.withTriage.downgrade).toMatchObject({ alerts: 1, quiet: 0, lowered: 1 });
    expect(t.withTriage.suppress).toMatchObject({ alerts: 1, quiet: 1, lowered: 0 });
  });

  it('changes nothing when no triage came back', () => {
    const t = tallyTriagedFile(file(), anomalies, [timeout, timeout, timeout]);
    for (const arm of [t.withTriage.suppress, t.withTriage.downgrade]) {
      expect(arm).toMatchObject({ ...t.withoutTriage, quiet: 0, lowered: 0, fpRemoved: 0, windowsLost: 0 });
    }
    expect(t.verdicts.skipped).toBe(3);
  });

  it('refuses triages that do not pair up with the anomalies', () => {
    expect(() => tallyTriagedFile(file(), anomalies, [timeout])).toThrow(/3 anomalies but 1 triages/);
  });
});

describe('totalTriage', () => {
  it('sums the files and takes precision and recall over the sums', () => {
    const a = tallyTriagedFile(file('a.csv'), [anomaly(55, 'warning')], [done('anomaly', 'warning')]);
    const b = tallyTriagedFile(
      file('b.csv'),
      [anomaly(10, 'warning'), anomaly(150, 'warning')],
      [done('expected', 'info'), { status: 'skipped', reason: 'circuit_open' }],
    );
    const total = totalTriage([a, b]);
    expect(total.windows).toBe(2);
    expect(total.candidates).toBe(3);
    expect(total.withoutTriage).toEqual({
      alerts: 3,
      tp: 1,
      fp: 2,
      windowsDetected: 1,
      precision: 1 / 3,
      recall: 0.5,
    });
    expect(total.withTriage.suppress).toMatchObject({
      alerts: 2,
      tp: 1,
      fp: 1,
      precision: 0.5,
      recall: 0.5,
      quiet: 1,
      fpRemoved: 1,
    });
    expect(total.verdicts).toMatchObject({ anomaly: 1, expected: 1, skipped: 1 });
    expect(total.verdicts.outsideWindows).toEqual({ anomaly: 0, expected: 1, uncertain: 0, skipped: 1 });
    expect(total.verdicts.skippedBy).toMatchObject({ circuit_open: 1, timeout: 0 });
  });

  it('has no precision nor recall over nothing', () => {
    const total = totalTriage([]);
    expect(total.withoutTriage).toEqual({
      alerts: 0,
      tp: 0,
      fp: 0,
      windowsDetected: 0,
      precision: null,
      recall: null,
    });
  });
});

describe('usageFigures', () => {
  it('prices the tokens in total and per 1,000 candidates', () => {
    const usage = usageFigures(
      { inputTokens: 1_500_000, outputTokens: 50_000 },
      { inPerMillion: 0.15, outPerMillion: 0.6 },
      500,
    );
    expect(usage).toEqual({
      tokensIn: 1_500_000,
      tokensOut: 50_000,
      costUsd: 0.255,
      prices: { inPerMillion: 0.15, outPerMillion: 0.6 },
      per1000Candidates: { tokensIn: 3_000_000, tokensOut: 100_000, costUsd: 0.51 },
    });
  });

  it('has nothing per candidate without candidates', () => {
    const usage = usageFigures({ inputTokens: 0, outputTokens: 0 }, { inPerMillion: 1, outPerMillion: 5 }, 0);
    expect(usage.costUsd).toBe(0);
    expect(usage.per1000Candidates).toBeNull();
  });
});
