import { parseTenantId, type AnomalyRecord } from '@seismo/storage';
import { type EmittedAnomaly, type StreamedSeries } from './anomaly-stream';
import { alertSeverityOf, triageCandidateOf, windowBefore } from './triage-candidate';
import { TRIAGE_WINDOW_MS } from '@seismo/llm';

const tenantId = parseTenantId('nab');
const STEP = 300_000;
const T0 = Date.UTC(2014, 0, 1);

function series(length: number, step = STEP): StreamedSeries {
  return {
    name: 'realKnownCause/nyc_taxi.csv',
    timestamps: Float64Array.from({ length }, (_, i) => T0 + i * step),
    values: Float64Array.from({ length }, (_, i) => i),
  };
}

function anomalyAt(s: StreamedSeries, index: number, severity = 'critical'): EmittedAnomaly {
  const record: AnomalyRecord = {
    tenantId,
    id: `a${index}`,
    series: s.name,
    ts: s.timestamps[index],
    value: s.values[index],
    score: 0.95,
    severity,
    detectors: ['ensemble'],
    context: { ts: [s.timestamps[index]], values: [s.values[index]] },
    explanation: null,
    revision: 0,
    createdAt: s.timestamps[index],
    retentionDays: 30,
  };
  return { index, record };
}

describe('triageCandidateOf', () => {
  it('names the file as the metric, with no labels, no labelled past and the window ending at the anomaly', () => {
    const s = series(100);
    const candidate = triageCandidateOf(s, anomalyAt(s, 60));
    expect(candidate).toMatchObject({
      tenantId,
      anomalyId: 'a60',
      metric: 'realKnownCause/nyc_taxi.csv',
      labels: {},
      ts: T0 + 60 * STEP,
      value: 60,
      score: 0.95,
      severity: 'critical',
      detectors: ['ensemble'],
      past: [],
    });
    expect(candidate.profile).toBeUndefined();
    expect(candidate.window).toHaveLength(61);
    expect(candidate.window[0]).toEqual({ ts: T0, value: 0 });
    expect(candidate.window[60]).toEqual({ ts: T0 + 60 * STEP, value: 60 });
  });

  it('never shows a point after the anomaly', () => {
    const s = series(500);
    for (const index of [0, 1, 250, 499]) {
      const { window, ts } = triageCandidateOf(s, anomalyAt(s, index));
      expect(window[window.length - 1].ts).toBe(ts);
      expect(Math.max(...window.map((p) => p.ts))).toBe(ts);
    }
  });

  it('refuses an anomaly whose row is not its time', () => {
    const s = series(10);
    const a = anomalyAt(s, 5);
    expect(() => triageCandidateOf(s, { ...a, index: 6 })).toThrow(/row 6/);
  });

  it('grades an unknown engine severity as info', () => {
    expect(alertSeverityOf('warning')).toBe('warning');
    expect(alertSeverityOf('page')).toBe('info');
  });
});

describe('windowBefore', () => {
  it('reaches back a week at most, a point of each five-minute bucket as itself', () => {
    const hourly = series(24 * 10, 3_600_000);
    const window = windowBefore(hourly, 24 * 9);
    expect(window).toHaveLength(7 * 24 + 1);
    expect(window[window.length - 1].ts - window[0].ts).toBe(TRIAGE_WINDOW_MS);
    expect(window.map((p) => p.value)).toEqual(Array.from({ length: 7 * 24 + 1 }, (_, i) => 24 * 2 + i));
  });

  it('shows denser rows as the first of every five minutes, then the anomalous row, never a later one', () => {
    const minutely = series(12_000, 60_000);
    const window = windowBefore(minutely, 11_000);
    // The week before row 11,000 starts at row 920: 2016 buckets of five rows each, then the row.
    expect(window).toHaveLength(2017);
    expect(window[0]).toEqual({ ts: T0 + 920 * 60_000, value: 920 });
    expect(window[2015]).toEqual({ ts: T0 + 10_995 * 60_000, value: 10_995 });
    expect(window[2016]).toEqual({ ts: T0 + 11_000 * 60_000, value: 11_000 });
  });
});
