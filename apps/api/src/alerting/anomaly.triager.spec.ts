import { type AnomalyTriage } from '@seismo/llm';
import { decide } from './anomaly.triager';

function verdict(
  verdict: 'anomaly' | 'expected' | 'uncertain',
  severity: 'info' | 'warning' | 'critical',
): AnomalyTriage {
  return {
    status: 'done',
    verdict,
    severity,
    explanation: 'The nightly batch job runs at 02:00.',
    likelyCause: 'batch job',
    confidence: 0.9,
    model: 'fake',
    cached: false,
  };
}

describe('decide', () => {
  it('lowers the severity to the verdict, never raises it', () => {
    expect(
      decide(verdict('anomaly', 'warning'), 'critical', { expectedPolicy: 'downgrade' }, false),
    ).toMatchObject({
      severity: 'warning',
      quiet: undefined,
    });
    expect(
      decide(verdict('anomaly', 'critical'), 'info', { expectedPolicy: 'downgrade' }, false),
    ).toMatchObject({
      severity: 'info',
      quiet: undefined,
    });
  });

  it('follows the tenant policy for an expected verdict', () => {
    const expected = verdict('expected', 'warning');
    expect(decide(expected, 'critical', { expectedPolicy: 'suppress' }, false).quiet).toBe('expected');
    expect(decide(expected, 'critical', { expectedPolicy: 'downgrade' }, false)).toMatchObject({
      severity: 'info',
      quiet: undefined,
    });
    expect(decide(expected, 'critical', { expectedPolicy: 'annotate' }, false)).toMatchObject({
      severity: 'critical',
      quiet: undefined,
    });
  });

  it('lets a skipped triage alert unchanged', () => {
    const skipped: AnomalyTriage = { status: 'skipped', reason: 'circuit_open' };
    expect(decide(skipped, 'critical', { expectedPolicy: 'suppress' }, false)).toEqual({
      triage: skipped,
      severity: 'critical',
      quiet: undefined,
    });
  });

  it('keeps quiet a move its series profile says does not matter, whatever the verdict', () => {
    expect(
      decide(verdict('anomaly', 'critical'), 'critical', { expectedPolicy: 'annotate' }, true).quiet,
    ).toBe('direction');
    expect(
      decide({ status: 'skipped', reason: 'timeout' }, 'warning', { expectedPolicy: 'annotate' }, true).quiet,
    ).toBe('direction');
  });
});
