import { type FeedbackRepository } from '@seismo/alerting';
import { type AnomalyEvent } from '@seismo/engine/pipeline/anomaly-event';
import { type AnomalyTriage, type LlmTriage } from '@seismo/llm';
import { type AnomalyRepository, parseTenantId, type PointRepository } from '@seismo/storage';
import { type Tenant } from '@seismo/tenancy';
import { AnomalyTriager, decide } from './anomaly.triager';

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

describe('AnomalyTriager.judge', () => {
  const event: AnomalyEvent = {
    v: 1,
    tenant_id: 'acme',
    id: 'an_1',
    series: 'cpu{host="a"}',
    ts: new Date(Date.UTC(2026, 11, 7, 12)).toISOString(),
    value: 400,
    score: 0.95,
    severity: 'critical',
    detectors: ['ensemble'],
    context: { ts: [new Date(Date.UTC(2026, 11, 7, 12)).toISOString()], values: [400] },
  };

  const at = Date.parse(event.ts);

  /** A triager on fakes: the LLM gathers what it is shown and answers `anomaly`; the reads are counted. */
  function triager(labels: number, stored: ReadonlyArray<{ ts: number; value: number }> = []) {
    const reads = { window: 0, past: 0 };
    const shown: unknown[] = [];
    const windowArguments: unknown[][] = [];
    const tenant = {
      id: parseTenantId('acme'),
      zeroRetention: false,
      anomaliesDays: 30,
      llm: { triage: true, profiling: false, redactLabels: [], expectedPolicy: 'annotate' },
    } as unknown as Tenant;
    const parts = {
      llm: {
        triageLazily: async (candidate: { gather: () => Promise<unknown> }) => {
          shown.push(await candidate.gather());
          return verdict('anomaly', 'critical');
        },
      } as unknown as LlmTriage,
      tenant: () => tenant,
      points: {
        window: (...args: unknown[]) => {
          reads.window++;
          windowArguments.push(args);
          return Promise.resolve(stored);
        },
      } as unknown as PointRepository,
      anomalies: { insertBatch: () => Promise.resolve() } as unknown as AnomalyRepository,
      feedback: {
        labelledOfSeries: () => {
          reads.past++;
          return Promise.resolve([]);
        },
      } as unknown as FeedbackRepository,
      waitMs: 1000,
      labelsOf: () => labels,
    };
    return { reads, shown, windowArguments, triager: new AnomalyTriager(parts) };
  }

  it("reads the series' labelled past only when the alert path holds a label of it", async () => {
    const unlabelled = triager(0);
    expect((await unlabelled.triager.judge(event, 'critical')).triage.status).toBe('done');
    expect(unlabelled.reads).toEqual({ window: 1, past: 0 });
    const labelled = triager(2);
    await labelled.triager.judge(event, 'critical');
    expect(labelled.reads).toEqual({ window: 1, past: 1 });
    await Promise.all([unlabelled.triager.flush(), labelled.triager.flush()]);
  });

  it("shows the series' stored week when it ends at the anomaly, its context when the point is not stored yet", async () => {
    const week = [
      { ts: at - 86_400_000, value: 10 },
      { ts: at - 300_000, value: 12 },
      { ts: at, value: 400 },
    ];
    const stored = triager(0, week);
    await stored.triager.judge(event, 'critical');
    expect(stored.shown).toEqual([expect.objectContaining({ window: week })]);
    // The week before the anomaly, in five-minute buckets.
    expect(stored.windowArguments).toEqual([['acme', 'cpu{host="a"}', at, 7 * 86_400_000, 2016]]);

    const early = triager(0, week.slice(0, 2));
    await early.triager.judge(event, 'critical');
    expect(early.shown).toEqual([expect.objectContaining({ window: [{ ts: at, value: 400 }] })]);
    await Promise.all([stored.triager.flush(), early.triager.flush()]);
  });
});
