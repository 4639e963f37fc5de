import { parseTenantId } from '@seismo/storage';
import { type FeedbackLabel } from './feedback';
import { signatureOf } from './feedback-signature';
import { DEFAULT_LABEL_AGE_MS, FeedbackSuppressor, type SuppressionCandidate } from './feedback.suppressor';

const tenant = parseTenantId('t1');
const BASE = [10, 11, 9, 10, 12, 10, 9];

/** An anomaly of `series` at value `value` after the baseline above (MAD 1 -> spread 1.4826). */
function anomaly(value: number, fields: Partial<SuppressionCandidate> = {}): SuppressionCandidate {
  const ts = [...BASE.map((_, i) => i * 1000), 7000];
  return {
    tenantId: tenant,
    series: 'cpu',
    ts: 7000,
    value,
    score: 0.8,
    detectors: ['ensemble'],
    context: { ts, values: [...BASE, value] },
    ...fields,
  };
}

function labelled(
  suppressor: FeedbackSuppressor,
  id: string,
  label: FeedbackLabel,
  a: SuppressionCandidate,
): void {
  suppressor.learn({
    tenantId: a.tenantId,
    series: a.series,
    anomalyId: id,
    anomalyTs: a.ts,
    label,
    signature: signatureOf(a),
  });
}

describe('signatureOf', () => {
  it('measures the deviation from the context without the anomalous point, in robust units', () => {
    const s = signatureOf(anomaly(25));
    expect(s.direction).toBe(1);
    expect(s.magnitude).toBeCloseTo(15 / 1.4826, 6);
    expect(signatureOf(anomaly(0)).direction).toBe(-1);
  });

  it('falls back when MAD is 0, and stays finite on a flat context', () => {
    const flat = anomaly(101, { context: { ts: [0, 1, 2, 7000], values: [100, 100, 100, 101] } });
    const s = signatureOf(flat);
    expect(s.magnitude).toBeCloseTo(1 / (1e-4 * 100), 6);
    const mostlyFlat = signatureOf(
      anomaly(20, { context: { ts: [0, 1, 2, 3, 7000], values: [10, 10, 10, 14, 20] } }),
    );
    expect(mostlyFlat.magnitude).toBeCloseTo(10 / (1.2533 * 1), 6);
  });

  it('has no direction without a context', () => {
    expect(signatureOf(anomaly(5, { context: { ts: [7000], values: [5] } }))).toMatchObject({
      direction: 0,
      magnitude: 0,
    });
  });
});

describe('FeedbackSuppressor', () => {
  it('suppresses the same deviation of a series, and a smaller one of that shape', () => {
    const s = new FeedbackSuppressor();
    labelled(s, 'an-1', 'false_positive', anomaly(25));
    expect(s.suppresses(anomaly(25))).toEqual({ by: 'an-1' });
    expect(s.suppresses(anomaly(18))).toEqual({ by: 'an-1' });
    // Within the 25% tolerance.
    expect(s.suppresses(anomaly(28))).toEqual({ by: 'an-1' });
  });

  it('treats expected like false_positive', () => {
    const s = new FeedbackSuppressor();
    labelled(s, 'an-1', 'expected', anomaly(25));
    expect(s.suppresses(anomaly(22))).toEqual({ by: 'an-1' });
  });

  it('still alerts on a bigger deviation, the opposite direction, other detectors, another series or tenant', () => {
    const s = new FeedbackSuppressor();
    labelled(s, 'an-1', 'false_positive', anomaly(25));
    expect(s.suppresses(anomaly(40))).toBeUndefined();
    expect(s.suppresses(anomaly(-5))).toBeUndefined();
    expect(s.suppresses(anomaly(20, { detectors: ['flatline'] }))).toBeUndefined();
    expect(s.suppresses(anomaly(20, { series: 'mem' }))).toBeUndefined();
    expect(s.suppresses(anomaly(20, { tenantId: parseTenantId('t2') }))).toBeUndefined();
    expect(s.suppresses(anomaly(20, { context: { ts: [7000], values: [20] } }))).toBeUndefined();
  });

  it('never suppresses a deviation as big as a confirmed true positive, whichever came first', () => {
    const before = new FeedbackSuppressor();
    labelled(before, 'tp', 'true_positive', anomaly(20));
    labelled(before, 'fp', 'false_positive', anomaly(40));
    const after = new FeedbackSuppressor();
    labelled(after, 'fp', 'false_positive', anomaly(40));
    labelled(after, 'tp', 'true_positive', anomaly(20));
    for (const s of [before, after]) {
      expect(s.suppresses(anomaly(30))).toBeUndefined();
      expect(s.suppresses(anomaly(20))).toBeUndefined();
      // Smaller than the confirmed one: the false positive still covers it.
      expect(s.suppresses(anomaly(13))).toEqual({ by: 'fp' });
    }
  });

  it('teaches for DEFAULT_LABEL_AGE_MS around the labelled anomaly, or the span it is given', () => {
    const s = new FeedbackSuppressor();
    labelled(s, 'an-1', 'false_positive', anomaly(25));
    expect(s.suppresses(anomaly(20, { ts: 7000 + DEFAULT_LABEL_AGE_MS }))).toEqual({ by: 'an-1' });
    expect(s.suppresses(anomaly(20, { ts: 7000 + DEFAULT_LABEL_AGE_MS + 1 }))).toBeUndefined();
    const longer = new FeedbackSuppressor({ maxAgeMs: 2 * DEFAULT_LABEL_AGE_MS });
    labelled(longer, 'an-1', 'false_positive', anomaly(25));
    expect(longer.suppresses(anomaly(20, { ts: 7000 + DEFAULT_LABEL_AGE_MS + 1 }))).toEqual({ by: 'an-1' });
  });

  it('still alerts on a deviation the detector scores higher than the false positive it resembles', () => {
    const s = new FeedbackSuppressor();
    labelled(s, 'an-1', 'false_positive', anomaly(25, { score: 0.7 }));
    expect(s.suppresses(anomaly(18, { score: 0.7 }))).toEqual({ by: 'an-1' });
    expect(s.suppresses(anomaly(18, { score: 0.6 }))).toEqual({ by: 'an-1' });
    expect(s.suppresses(anomaly(18, { score: 0.95 }))).toBeUndefined();
    // A label read back from storage holds its score as Float32: its own anomaly stays covered.
    const stored = new FeedbackSuppressor();
    const a = anomaly(25, { score: 0.7000000001 });
    stored.learn({
      tenantId: a.tenantId,
      series: a.series,
      anomalyId: 'an-1',
      anomalyTs: a.ts,
      label: 'false_positive',
      signature: { ...signatureOf(a), score: Math.fround(0.7) },
    });
    expect(stored.suppresses(a)).toEqual({ by: 'an-1' });
  });

  it("takes an anomaly's latest label only", () => {
    const s = new FeedbackSuppressor();
    labelled(s, 'an-1', 'false_positive', anomaly(25));
    labelled(s, 'an-1', 'true_positive', anomaly(25));
    expect(s.suppresses(anomaly(25))).toBeUndefined();
    expect(s.signaturesOf(tenant, 'cpu')).toBe(1);
  });

  it('keeps at most maxPerSeries signatures per series and maxSeriesPerTenant series, oldest out', () => {
    const s = new FeedbackSuppressor({ maxPerSeries: 3, maxSeriesPerTenant: 2 });
    labelled(s, 'big', 'false_positive', anomaly(60));
    for (let i = 0; i < 3; i++) labelled(s, `small-${i}`, 'false_positive', anomaly(15));
    expect(s.signaturesOf(tenant, 'cpu')).toBe(3);
    expect(s.suppresses(anomaly(50))).toBeUndefined();
    labelled(s, 'm', 'false_positive', anomaly(15, { series: 'mem' }));
    labelled(s, 'd', 'false_positive', anomaly(15, { series: 'disk' }));
    expect(s.seriesOf(tenant)).toBe(2);
    expect(s.suppresses(anomaly(15))).toBeUndefined();
    expect(s.suppresses(anomaly(15, { series: 'disk' }))).toEqual({ by: 'd' });
  });

  it('refuses bad bounds at construction', () => {
    expect(() => new FeedbackSuppressor({ maxPerSeries: 0 })).toThrow(/maxPerSeries/);
    expect(() => new FeedbackSuppressor({ tolerance: -1 })).toThrow(/tolerance/);
  });
});
