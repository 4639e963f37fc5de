import { parseTenantId } from '@seismo/storage';
import { AnomalyEventDecodeError, decodeAnomalyEvent, encodeAnomalyEvent } from './anomaly-event';

const record = {
  tenantId: parseTenantId('acme'),
  id: 'a'.repeat(32),
  series: 'cpu{host="a"}',
  ts: Date.UTC(2026, 0, 1),
  value: 97.5,
  score: 0.93,
  severity: 'critical',
  detectors: ['ensemble'],
  context: { ts: [Date.UTC(2025, 11, 31, 23, 59)], values: [12] },
  explanation: null,
  revision: 0,
  createdAt: 0,
  retentionDays: 30,
};

describe('anomaly events', () => {
  it('round-trips an anomaly through its JSON message', () => {
    expect(decodeAnomalyEvent(encodeAnomalyEvent(record))).toEqual({
      v: 1,
      tenant_id: 'acme',
      id: record.id,
      series: 'cpu{host="a"}',
      ts: '2026-01-01T00:00:00.000Z',
      value: 97.5,
      score: 0.93,
      severity: 'critical',
      detectors: ['ensemble'],
      context: { ts: ['2025-12-31T23:59:00.000Z'], values: [12] },
    });
  });

  it('carries an explanation when there is one', () => {
    expect(
      decodeAnomalyEvent(encodeAnomalyEvent({ ...record, explanation: 'nightly batch' })).explanation,
    ).toBe('nightly batch');
  });

  it.each([
    ['not json', 'is not JSON'],
    [JSON.stringify({ v: 2 }), 'v:'],
    [JSON.stringify({ ...JSON.parse(encodeAnomalyEvent(record).toString()), score: 3 }), 'score:'],
  ])('refuses %s, naming the problem', (text, message) => {
    expect(() => decodeAnomalyEvent(Buffer.from(text))).toThrow(AnomalyEventDecodeError);
    expect(() => decodeAnomalyEvent(Buffer.from(text))).toThrow(message);
  });
});
