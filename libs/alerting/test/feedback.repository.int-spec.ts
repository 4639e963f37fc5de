import { AnomalyRepository, parseTenantId } from '@seismo/storage';
import { anomalyRecord, freshToken, TestStorage } from '../../storage/test/storage.harness';
import { type Feedback } from '../src/feedback/feedback';
import { FeedbackRepository } from '../src/feedback/feedback.repository';
import { FeedbackSuppressor } from '../src/feedback/feedback.suppressor';

let storage: TestStorage;
let repository: FeedbackRepository;
beforeAll(async () => {
  storage = await TestStorage.start();
  repository = new FeedbackRepository(storage.connection);
});
afterAll(async () => {
  await storage.stop();
});

const a = parseTenantId('fb-a');
const b = parseTenantId('fb-b');

function feedback(fields: Partial<Feedback> & Pick<Feedback, 'anomalyId'>): Feedback {
  return {
    tenantId: a,
    series: 'cpu',
    anomalyTs: Date.now(),
    label: 'false_positive',
    actor: 'member:mem_1',
    createdAt: Date.now(),
    signature: { direction: 1, magnitude: 10, detectors: ['ensemble'], score: 0.75 },
    ...fields,
  };
}

describe('FeedbackRepository (real embedded ClickHouse)', () => {
  it('reads back the latest label of an anomaly, only in its tenant', async () => {
    await repository.write(feedback({ anomalyId: 'an-1', note: 'deploy' }), 30);
    await repository.write(
      feedback({ anomalyId: 'an-1', label: 'true_positive', createdAt: Date.now() + 1 }),
      30,
    );
    const latest = await repository.latest(a, 'an-1');
    expect(latest).toMatchObject({ anomalyId: 'an-1', label: 'true_positive', actor: 'member:mem_1' });
    expect(latest?.note).toBeUndefined();
    expect(latest?.signature).toEqual({ direction: 1, magnitude: 10, detectors: ['ensemble'], score: 0.75 });
    expect(await repository.latest(b, 'an-1')).toBeUndefined();
    expect(await repository.labelsOf(a, ['an-1', 'an-none'])).toEqual(new Map([['an-1', 'true_positive']]));
    expect(await repository.labelsOf(b, ['an-1'])).toEqual(new Map());
  });

  it('loads at most perSeries labels per series, the latest, oldest first, into a suppressor', async () => {
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) {
      await repository.write(
        feedback({ tenantId: b, series: 'mem', anomalyId: `m-${i}`, createdAt: t0 + i * 10 }),
        30,
      );
    }
    const loaded = (await repository.loadRecent(3)).filter((f) => f.tenantId === b);
    expect(loaded.map((f) => f.anomalyId)).toEqual(['m-2', 'm-3', 'm-4']);
    const suppressor = await repository.loadInto(new FeedbackSuppressor(), 16);
    // A day after the labelled anomalies (Date.now() in `feedback`): inside the span a label teaches.
    const ts = Date.now() + 86_400_000;
    const candidate = {
      tenantId: b,
      series: 'mem',
      ts,
      value: 15,
      score: 0.7,
      detectors: ['ensemble'],
      context: {
        ts: [1, 2, 3, 4, 5, 6, 7, 8].map((i) => ts - (8 - i) * 1000),
        values: [10, 11, 9, 10, 12, 10, 9, 15],
      },
    };
    expect(suppressor.suppresses(candidate)).toEqual({ by: expect.stringMatching(/^m-/) });
  });

  it("lists a series' labelled anomalies newest first, with the value of each one's latest revision", async () => {
    const tenant = parseTenantId('fb-past');
    const anomalies = new AnomalyRepository(storage.connection);
    const t0 = Date.UTC(2031, 0, 1);
    await anomalies.insertBatch(
      [
        anomalyRecord(tenant, 'p-1', t0, { series: 'disk', value: 90 }),
        anomalyRecord(tenant, 'p-2', t0 + 60_000, { series: 'disk', value: 95 }),
        anomalyRecord(tenant, 'p-2', t0 + 60_000, {
          series: 'disk',
          value: 95,
          revision: 1,
          explanation: 'x',
        }),
      ],
      freshToken('seismo.anomalies'),
    );
    await repository.write(
      feedback({ tenantId: tenant, series: 'disk', anomalyId: 'p-1', anomalyTs: t0, createdAt: t0 }),
      30,
    );
    await repository.write(
      feedback({
        tenantId: tenant,
        series: 'disk',
        anomalyId: 'p-2',
        anomalyTs: t0 + 60_000,
        label: 'expected',
        createdAt: t0 + 1,
      }),
      30,
    );
    // A label whose anomaly has expired still counts, without a value.
    await repository.write(
      feedback({
        tenantId: tenant,
        series: 'disk',
        anomalyId: 'p-gone',
        anomalyTs: t0 - 1,
        createdAt: t0 + 2,
      }),
      30,
    );
    await repository.write(
      feedback({ tenantId: tenant, series: 'cpu', anomalyId: 'p-other', createdAt: t0 + 3 }),
      30,
    );

    const past = await repository.labelledOfSeries(tenant, 'disk', 5);
    expect(past.map((p) => p.label)).toEqual(['false_positive', 'expected', 'false_positive']);
    expect(past[0].value).toBeNaN();
    expect(past.slice(1)).toEqual([
      { ts: t0 + 60_000, value: 95, score: 0.75, label: 'expected' },
      { ts: t0, value: 90, score: 0.75, label: 'false_positive' },
    ]);
    expect(await repository.labelledOfSeries(tenant, 'disk', 1)).toHaveLength(1);
    expect(await repository.labelledOfSeries(a, 'disk', 5)).toEqual([]);
  });
});
