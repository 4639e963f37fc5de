import { parseTenantId } from '@seismo/storage';
import { anomalyId } from './anomaly-id';
import { anomalyRecordOf, checkedAnomalyThreshold } from './anomaly-record';

const tenantId = parseTenantId('acme');

describe('anomalyRecordOf', () => {
  it('makes the row the engine writes: id from the point, severity from the score, the context as given', () => {
    const context = { ts: [1000, 2000], values: [10, 90] };
    const record = anomalyRecordOf(
      { tenantId, series: 'cpu', ts: 2000, value: 90, score: 0.93, context },
      5,
      30,
    );
    expect(record).toEqual({
      tenantId,
      id: anomalyId(tenantId, 'cpu', 2000),
      series: 'cpu',
      ts: 2000,
      value: 90,
      score: 0.93,
      severity: 'critical',
      detectors: ['ensemble'],
      context,
      explanation: null,
      revision: 0,
      createdAt: 5,
      retentionDays: 30,
    });
    const grade = (score: number) =>
      anomalyRecordOf({ tenantId, series: 'cpu', ts: 0, value: 0, score, context }, 0, 1).severity;
    expect([grade(0.5), grade(0.7), grade(0.9)]).toEqual(['info', 'warning', 'critical']);
  });

  it('refuses a threshold outside (0, 1]', () => {
    expect(checkedAnomalyThreshold(1)).toBe(1);
    for (const bad of [0, -0.1, 1.5, Number.NaN]) {
      expect(() => checkedAnomalyThreshold(bad)).toThrow(/anomalyThreshold must be in \(0, 1\]/);
    }
  });
});
