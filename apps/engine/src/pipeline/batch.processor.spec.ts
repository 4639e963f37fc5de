import { decodePointBatch, encodePointBatch, PointBatchBuilder } from '@seismo/pipeline';
import { parseTenantId, seriesHash } from '@seismo/storage';
import { CONTEXT_POINTS, SeriesScorer } from '../scoring/series-scorer';
import { BatchProcessor, UnknownTenantError } from './batch.processor';
import { type QueueBatch } from './point-queue';
import { PointFlag } from './point-flag';
import { type DeadLetter } from './processed-batch';
import { severityOf } from './severity';

const T0 = Date.UTC(2031, 0, 1);
const MINUTE = 60_000;
const SPIKE = 300;
const KEEP = { pointsDays: 30, anomaliesDays: 365 };

/** A steady, slightly noisy metric with one spike at point SPIKE: the ensemble flags that point alone. */
function metric(i: number, scale = 1): number {
  const noise = ((i * 7919) % 101) / 500;
  return scale * (10 + Math.sin(i / 8) + noise) + (i === SPIKE ? 25 * scale : 0);
}

function message(tenant: string, points: Array<[series: string, i: number, value: number]>): Uint8Array {
  const builder = new PointBatchBuilder(tenant);
  for (const [series, i, value] of points) builder.add(series, T0 + i * MINUTE, value);
  return encodePointBatch(builder.build());
}

function batchOf(values: Uint8Array[], partition = 3, firstOffset = 100): QueueBatch {
  return { partition, messages: values.map((value, i) => ({ offset: firstOffset + i, value })) };
}

function processor(options: Partial<ConstructorParameters<typeof BatchProcessor>[0]> = {}): BatchProcessor {
  return new BatchProcessor({ retentionOf: () => KEEP, clock: () => T0 + 999, ...options });
}

/** The same points as `count` messages of 50 points each, alternating two tenants that share series names. */
function twoTenants(count: number, spikeTenant: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let m = 0; m < count; m++) {
    for (const tenant of ['acme', 'globex']) {
      const points: Array<[string, number, number]> = [];
      for (let i = m * 50; i < (m + 1) * 50; i++) {
        const scale = tenant === 'acme' ? 1 : 3;
        const value = tenant === spikeTenant ? metric(i, scale) : metric(i === SPIKE ? i - 1 : i, scale);
        points.push(['cpu', i, value]);
      }
      out.push(message(tenant, points));
    }
  }
  return out;
}

describe('BatchProcessor', () => {
  it('keeps detector state per tenant and series: same-named series of two tenants never mix', () => {
    const processed = processor().process(batchOf(twoTenants(8, 'acme')));

    // What each tenant's series scores alone, with nothing of the other interleaved.
    const alone = { acme: new SeriesScorer(), globex: new SeriesScorer() };
    const expected = processed.points.map((p) =>
      alone[p.tenantId as 'acme' | 'globex'].score(p.series, p.value, p.ts),
    );
    expect(processed.points.map((p) => p.score)).toEqual(expected);
    expect(processed.points).toHaveLength(800);
    expect(processed.anomalies.map((a) => [a.tenantId, a.ts])).toEqual([['acme', T0 + SPIKE * MINUTE]]);
  });

  it('builds point and anomaly rows, with ids that depend only on what the anomaly is', () => {
    const batch = batchOf(twoTenants(8, 'acme'));
    const first = processor().process(batch);
    const again = processor({ clock: () => T0 + 5_000 }).process(batch);

    expect(first).toMatchObject({ partition: 3, firstOffset: 100, lastOffset: 115, deadLetters: [] });
    const [anomaly] = first.anomalies;
    expect(anomaly).toEqual({
      tenantId: 'acme',
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      series: 'cpu',
      ts: T0 + SPIKE * MINUTE,
      value: metric(SPIKE),
      score: anomaly.score,
      severity: severityOf(anomaly.score),
      detectors: ['ensemble'],
      // The series' last points, the anomalous one last.
      context: {
        ts: Array.from({ length: CONTEXT_POINTS }, (_, k) => T0 + (SPIKE - CONTEXT_POINTS + 1 + k) * MINUTE),
        values: Array.from({ length: CONTEXT_POINTS }, (_, k) => metric(SPIKE - CONTEXT_POINTS + 1 + k)),
      },
      explanation: null,
      revision: 0,
      createdAt: T0 + 999,
      retentionDays: 365,
    });
    expect(anomaly.score).toBeGreaterThanOrEqual(0.5);
    expect(again.anomalies.map((a) => a.id)).toEqual([anomaly.id]);

    // Another tenant's spike at the same instant of a series of the same name is another anomaly.
    const globex = processor().process(batchOf(twoTenants(8, 'globex'))).anomalies;
    expect(globex.map((a) => a.tenantId)).toEqual(['globex']);
    expect(globex[0].id).not.toBe(anomaly.id);

    const spikePoint = first.points.find((p) => p.tenantId === 'acme' && p.ts === anomaly.ts);
    expect(spikePoint).toMatchObject({ flags: PointFlag.ANOMALY, score: anomaly.score, retentionDays: 30 });
    expect(first.points.filter((p) => p.flags !== 0)).toHaveLength(1);
  });

  it('scores a batch handed over decoded (the embedded queue) exactly as its bytes', () => {
    const values = twoTenants(8, 'globex');
    const decoded: QueueBatch = {
      partition: 3,
      messages: values.map((value, i) => ({ offset: 100 + i, value, decoded: decodePointBatch(value) })),
    };

    const fromBytes = processor().process(batchOf(values));
    const handedOver = processor().process(decoded);
    expect(handedOver).toEqual(fromBytes);
    expect(handedOver.anomalies).toHaveLength(1);
  });

  it('checks a batch handed over decoded as it checks bytes: a bad point is a dead letter', () => {
    const bad = message('acme', [['cpu', 1, Number.NaN]]);
    const processed = processor().process({
      partition: 3,
      messages: [{ offset: 7, value: bad, decoded: decodePointBatch(bad) }],
    });
    expect(withoutValues(processed.deadLetters)).toEqual([
      { partition: 3, offset: 7, reason: 'point batch: point 0 has value NaN, expected a finite number' },
    ]);
  });

  it('turns a malformed message into a dead letter and processes its neighbours', () => {
    const good = (from: number) =>
      message(
        'acme',
        Array.from({ length: 10 }, (_, k): [string, number, number] => ['cpu', from + k, metric(from + k)]),
      );
    const builder = new PointBatchBuilder('acme');
    builder.add('cpu', T0 + 0.5, 1);
    const fractionalInstant = encodePointBatch(builder.build());
    const corrupt = Buffer.from(good(10));
    corrupt.writeUInt8(7, 0);
    const batch = batchOf([
      good(0),
      corrupt,
      message('acme', [['cpu', 20, Number.NaN]]),
      message('not a tenant!', [['cpu', 20, 1]]),
      fractionalInstant,
      message('acme', [['', 20, 1]]),
      good(20),
    ]);

    const processed = processor().process(batch);
    expect(withoutValues(processed.deadLetters)).toEqual([
      { partition: 3, offset: 101, reason: 'point batch: unknown format 7' },
      { partition: 3, offset: 102, reason: 'point batch: point 0 has value NaN, expected a finite number' },
      {
        partition: 3,
        offset: 103,
        reason: expect.stringMatching(/^point batch: invalid tenant id "not a tenant!"/),
      },
      {
        partition: 3,
        offset: 104,
        reason: expect.stringMatching(/point 0 has timestamp .*\.5, expected integer/),
      },
      { partition: 3, offset: 105, reason: 'point batch: series 0 has 0 characters, expected 1-16384' },
    ]);
    // The dead-letter topic gets each message as it came.
    expect(processed.deadLetters.map((letter) => letter.value)).toEqual(
      batch.messages.slice(1, 6).map((m) => m.value),
    );
    expect(processed.points.map((p) => (p.ts - T0) / MINUTE)).toEqual([
      ...Array.from({ length: 10 }, (_, k) => k),
      ...Array.from({ length: 10 }, (_, k) => 20 + k),
    ]);
    expect(processed).toMatchObject({ firstOffset: 100, lastOffset: 106 });
  });

  it('dead-letters a message for a tenant the directory does not know, and processes its neighbours', () => {
    const ghost = '00000000-0000-4000-8000-000000000000';
    const known = processor({
      retentionOf: (tenant) => {
        if (tenant === ghost) throw new Error(`tenant ${tenant} is unknown`);
        return KEEP;
      },
    });
    const processed = known.process(
      batchOf([
        message('acme', [['cpu', 0, 1]]),
        message(ghost, [['cpu', 0, 1]]),
        message('acme', [['cpu', 1, 1]]),
      ]),
    );
    expect(withoutValues(processed.deadLetters)).toEqual([
      { partition: 3, offset: 101, reason: expect.stringMatching(/no retention for tenant .*is unknown/) },
    ]);
    expect(processed.points).toHaveLength(2);
  });

  it('asked to, throws for an unknown tenant before the batch changed any state', () => {
    const ghost = '00000000-0000-4000-8000-000000000000';
    const known = processor({
      retentionOf: (tenant) => {
        if (tenant === ghost) throw new Error(`tenant ${tenant} is unknown`);
        return KEEP;
      },
    });
    const batch = batchOf([message('acme', [['cpu', 0, 1]]), message(ghost, [['cpu', 0, 1]])]);
    expect(() => known.process(batch, { unknownTenants: 'throw' })).toThrow(UnknownTenantError);
    expect(known.lastOffset(3)).toBe(-1);
    expect(known.seriesCount()).toBe(0);
    // The same batch, then, as if never tried.
    expect(known.process(batch).points).toHaveLength(1);
  });

  it("refuses a tenant's new series beyond its limit with a dead letter, and keeps the rest", () => {
    const processed = processor({ scorer: { maxSeries: 2 } }).process(
      batchOf([
        message('acme', [
          ['a', 0, 1],
          ['b', 0, 1],
          ['c', 0, 1],
          ['c', 1, 1],
          ['a', 1, 1],
        ]),
        // The limit is per tenant: another tenant still has room.
        message('globex', [['c', 0, 1]]),
      ]),
    );
    expect(processed.points.map((p) => `${p.tenantId}/${p.series}`)).toEqual([
      'acme/a',
      'acme/b',
      'acme/a',
      'globex/c',
    ]);
    expect(withoutValues(processed.deadLetters)).toEqual([
      {
        partition: 3,
        offset: 100,
        reason: expect.stringMatching(
          /^2 of 5 points refused, the first: series 'c' is new and the limit of 2/,
        ),
      },
    ]);
  });

  it('meters each tenant of a batch: ingested, scored, rejected (at ingest and here), anomalies, active series', () => {
    const withRefusals = new PointBatchBuilder('acme');
    withRefusals.add('a', T0, 1);
    const processed = processor({ scorer: { maxSeries: 2 }, clock: () => T0 + 90 * MINUTE }).process(
      batchOf([
        message('acme', [
          ['a', 0, 1],
          ['b', 0, 1],
          ['c', 0, 1],
          ['a', 1, 1],
        ]),
        // Four points refused at ingest travel with this message's one point.
        encodePointBatch(withRefusals.build(4)),
        // Refused whole (a timestamp out of range): its two points reached the engine, none was scored.
        message('acme', [
          ['a', 1e15, 1],
          ['a', 2, 1],
        ]),
        ...twoTenants(8, 'globex').filter((_, i) => i % 2 === 1),
      ]),
    );
    const byTenant = Object.fromEntries(processed.usage.map((row) => [row.tenantId, row]));
    expect(byTenant.acme).toEqual({
      tenantId: 'acme',
      hour: T0 + 60 * MINUTE,
      pointsIngested: 7,
      pointsScored: 4,
      pointsRejected: 1 + 4 + 2,
      anomalies: 0,
      alertsDelivered: 0,
      llmTokensIn: 0,
      llmTokensOut: 0,
      seriesHashes: [seriesHash('a'), seriesHash('b')],
    });
    expect(byTenant.globex).toMatchObject({
      pointsIngested: 400,
      pointsScored: 400,
      pointsRejected: 0,
      anomalies: processed.anomalies.length,
      seriesHashes: [seriesHash('cpu')],
    });
    expect(processed.anomalies.length).toBeGreaterThan(0);
  });

  it('leaves out of a usage row the series a stored row already carried in its hour', () => {
    let now = T0 + 999;
    const scoring = processor({ clock: () => now });
    const first = scoring.process(
      batchOf(
        [
          message('acme', [
            ['a', 0, 1],
            ['b', 0, 1],
          ]),
        ],
        3,
        100,
      ),
    );
    expect(first.usage[0].seriesHashes).toEqual([seriesHash('a'), seriesHash('b')]);
    // Not yet stored: the next batch names its series again.
    const second = scoring.process(batchOf([message('acme', [['a', 1, 1]])], 3, 101));
    expect(second.usage[0].seriesHashes).toEqual([seriesHash('a')]);
    scoring.stored(first);
    const third = scoring.process(
      batchOf(
        [
          message('acme', [
            ['a', 2, 1],
            ['c', 2, 1],
          ]),
        ],
        3,
        102,
      ),
    );
    expect(third.usage[0]).toMatchObject({ pointsScored: 2, seriesHashes: [seriesHash('c')] });
    // A new hour starts with every series again.
    now += 60 * MINUTE;
    const later = scoring.process(batchOf([message('acme', [['a', 3, 1]])], 3, 103));
    expect(later.usage[0].seriesHashes).toEqual([seriesHash('a')]);
    scoring.stored(later);
    scoring.forgetTenant(parseTenantId('acme'));
    const erased = scoring.process(batchOf([message('acme', [['a', 4, 1]])], 3, 104));
    expect(erased.usage[0].seriesHashes).toEqual([seriesHash('a')]);
  });

  it('meters nothing for a replayed batch: its counts were written the first time', () => {
    const first = processor();
    const batch = batchOf(twoTenants(2, 'acme'));
    expect(first.process(batch).usage).toHaveLength(2);
    const again = processor();
    again.restore(3, { offset: 99, series: [] });
    expect(again.process({ ...batch, replay: true }).usage).toEqual([]);
  });

  it('scores but does not store the points of a zero-retention tenant; its anomalies are kept', () => {
    const processed = processor({
      retentionOf: (tenant) => (tenant === 'acme' ? { pointsDays: 0, anomaliesDays: 7 } : KEEP),
    }).process(batchOf(twoTenants(8, 'acme')));
    expect(processed.points.every((p) => p.tenantId === 'globex')).toBe(true);
    expect(processed.anomalies).toMatchObject([{ tenantId: 'acme', retentionDays: 7 }]);
  });

  it('checks its configuration at construction and a bad retention before scoring anything', () => {
    expect(() => processor({ anomalyThreshold: 0 })).toThrow(/anomalyThreshold must be in \(0, 1\], got 0/);
    expect(() => processor({ scorer: { detector: 'nope' } })).toThrow(/unknown detector 'nope'/);

    let retention = { pointsDays: 1.5, anomaliesDays: 1 };
    const fixedLater = processor({ retentionOf: (tenant) => (tenant === 'globex' ? retention : KEEP) });
    const batch = batchOf(twoTenants(1, 'acme'));
    expect(() => fixedLater.process(batch)).toThrow(
      /retention of tenant globex: pointsDays must be an integer in 0..65535, got 1.5/,
    );
    // The failed attempt learned nothing: once fixed, the batch scores as on fresh state.
    retention = KEEP;
    expect(fixedLater.process(batch).points).toEqual(processor().process(batch).points);
  });
});

describe('BatchProcessor state across a restore', () => {
  const messages = twoTenants(8, 'acme'); // 16 messages, offsets 100..115
  const at = (from: number, to: number, replay = false): QueueBatch => ({
    ...batchOf(messages.slice(from - 100, to - 100 + 1), 3, from),
    ...(replay ? { replay: true } : {}),
  });
  const checkpointOf = (p: BatchProcessor, offset: number, all = false) => ({
    offset,
    series: p.takeCheckpoint(3, all).map((row) => ({ ...row, offset })),
  });

  it('restores a checkpoint, replays up to the commit without rows, and then scores as if never stopped', () => {
    const uninterrupted = processor();
    const expected = [at(100, 103), at(104, 109), at(110, 115)].map((b) => uninterrupted.process(b));

    const first = processor();
    first.process(at(100, 103));
    const checkpoint = checkpointOf(first, 103);
    first.process(at(104, 109)); // taken and committed, then the process dies

    const second = processor();
    second.restore(3, checkpoint);
    expect(second.lastOffset(3)).toBe(103);
    expect(second.process(at(104, 109, true))).toMatchObject({ points: [], anomalies: [], deadLetters: [] });
    expect(second.lastOffset(3)).toBe(109);
    expect(second.process(at(110, 115))).toEqual(expected[2]);
  });

  it('skips, in a replay, what a series restored from a newer row already learned', () => {
    const uninterrupted = processor();
    const expected = [at(100, 105), at(106, 111), at(112, 115)].map((b) => uninterrupted.process(b));

    const first = processor();
    first.process(at(100, 105));
    const round = checkpointOf(first, 105);
    first.process(at(106, 111));
    // A round at 111 that died after acme's rows: the marker still says 105.
    const partial = first.takeCheckpoint(3).filter((row) => row.tenantId === 'acme');
    const checkpoint = {
      offset: 105,
      series: [
        ...round.series.filter((row) => row.tenantId !== 'acme'),
        ...partial.map((row) => ({ ...row, offset: 111 })),
      ],
    };

    const second = processor();
    second.restore(3, checkpoint);
    second.process(at(106, 111, true));
    expect(second.process(at(112, 115))).toEqual(expected[2]);
  });

  it('forgets a partition it no longer owns', () => {
    const p = processor();
    p.process(at(100, 101));
    expect(p.seriesCount(3)).toBe(2);
    p.drop(3);
    expect(p.lastOffset(3)).toBeUndefined();
    expect(p.seriesCount()).toBe(0);
  });

  it("forgets an erased tenant's series in every partition, and checkpoints none of them again", () => {
    const p = processor({ maxSeriesOf: () => 2 });
    for (const partition of [0, 1]) {
      p.process(
        batchOf(
          [message('acme', [[`cpu${partition}`, 0, 1]]), message('globex', [[`cpu${partition}`, 0, 1]])],
          partition,
        ),
      );
    }
    expect(p.seriesCount()).toBe(4);
    p.forgetTenant(parseTenantId('acme'));
    expect(p.seriesCount()).toBe(2);
    expect([...p.takeCheckpoint(0, true), ...p.takeCheckpoint(1, true)].map((row) => row.tenantId)).toEqual([
      'globex',
      'globex',
    ]);
    // Were the id ever used again, it would start afresh, with its whole series limit.
    const again = p.process(
      batchOf(
        [
          message('acme', [
            ['a', 1, 1],
            ['b', 1, 1],
          ]),
        ],
        0,
        200,
      ),
    );
    expect(again.points).toHaveLength(2);
    expect(again.deadLetters).toEqual([]);
  });

  describe("a tenant's series limit across partitions", () => {
    const limited = (refused: Array<[string, number]>) =>
      processor({
        maxSeriesOf: (tenant) => (tenant === 'acme' ? 3 : 100),
        onSeriesRefused: (tenant, count) => refused.push([tenant, count]),
      });

    it('counts the series of every partition held against one limit, and tells who was refused', () => {
      const refused: Array<[string, number]> = [];
      const engine = limited(refused);
      engine.process(
        batchOf(
          [
            message('acme', [
              ['a', 0, 1],
              ['b', 0, 1],
            ]),
          ],
          0,
        ),
      );
      const second = engine.process(
        batchOf(
          [
            message('acme', [
              ['c', 0, 1],
              ['d', 0, 1],
              ['c', 1, 1],
            ]),
            message('globex', [['d', 0, 1]]),
          ],
          1,
        ),
      );
      expect(second.points.map((p) => `${p.tenantId}/${p.series}`)).toEqual(['acme/c', 'acme/c', 'globex/d']);
      expect(withoutValues(second.deadLetters)).toEqual([
        {
          partition: 1,
          offset: 100,
          reason: expect.stringMatching(
            /series 'd' is new and the tenant's max_series limit of 3 series is reached/,
          ),
        },
      ]);
      expect(refused).toEqual([['acme', 1]]);
      // Known series keep flowing on every partition.
      expect(engine.process(batchOf([message('acme', [['a', 1, 1]])], 0, 200)).points).toHaveLength(1);
    });

    it('frees the series of a partition that moved away, and counts restored ones without refusing them', () => {
      const engine = limited([]);
      engine.process(
        batchOf(
          [
            message('acme', [
              ['a', 0, 1],
              ['b', 0, 1],
              ['c', 0, 1],
            ]),
          ],
          0,
        ),
      );
      const checkpoint = engine.takeCheckpoint(0, true);
      engine.drop(0);
      expect(engine.process(batchOf([message('acme', [['d', 0, 1]])], 1)).points).toHaveLength(1);
      // Restored on top: 4 series held, over the limit of 3, and all of them still flow.
      engine.restore(0, { offset: 100, series: checkpoint.map((row) => ({ ...row, offset: 100 })) });
      expect(engine.process(batchOf([message('acme', [['a', 1, 1]])], 0, 101)).points).toHaveLength(1);
      expect(engine.process(batchOf([message('acme', [['e', 0, 1]])], 1, 101)).deadLetters).toHaveLength(1);
    });
  });

  it("summarises a zero-retention tenant's points per series and hour, and stores none of them", () => {
    const hour = 3_600_000;
    const processed = processor({
      retentionOf: (tenant) => (tenant === 'private' ? { pointsDays: 0, anomaliesDays: 90 } : KEEP),
    }).process(
      batchOf([
        message('private', [
          ['m', 0, 4],
          ['m', 59, 1],
          ['m', 60, 10],
          ['n', 0, 2],
        ]),
        message('open', [['m', 0, 4]]),
      ]),
    );
    expect(processed.points.map((p) => p.tenantId)).toEqual(['open']);
    expect(processed.hourly).toEqual([
      { tenantId: 'private', series: 'm', hour: T0, count: 2, sum: 5, min: 1, max: 4, retentionDays: 90 },
      {
        tenantId: 'private',
        series: 'm',
        hour: T0 + hour,
        count: 1,
        sum: 10,
        min: 10,
        max: 10,
        retentionDays: 90,
      },
      { tenantId: 'private', series: 'n', hour: T0, count: 1, sum: 2, min: 2, max: 2, retentionDays: 90 },
    ]);
  });
});

function withoutValues(letters: readonly DeadLetter[]): Array<Omit<DeadLetter, 'value'>> {
  return letters.map(({ value: _value, ...rest }) => rest);
}
