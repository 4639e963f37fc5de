import { ingestLimits, seriesKey } from '@seismo/ingest';
import { decodePointBatch, partitionOf } from '@seismo/pipeline';
import { parseTenantId } from '@seismo/storage';
import { type Message } from 'kafkajs';
import { type InletMessage, InletBatchTranslator } from './inlet-batch.translator';

const NOW = Date.UTC(2031, 0, 1);
const acme = parseTenantId('acme');
const source = { topic: 'seismo.in.acme', partition: 2 };

let offset = 0;
function message(body: unknown, timestamp = NOW): InletMessage {
  return {
    offset: String(offset++),
    value: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    timestamp: String(timestamp),
  };
}

function header(letter: Message, name: string): string | undefined {
  return letter.headers?.[name]?.toString();
}

/** Every relayed point as [partition, tenant, series, t, value], in produce order. */
function relayed(points: ReadonlyArray<{ partition: number; value: Buffer }>): unknown[] {
  return points.flatMap(({ partition, value }) => {
    const batch = decodePointBatch(value);
    return Array.from(batch.t, (t, i) => [
      partition,
      batch.tenant,
      batch.series[batch.seriesIndex[i]],
      t,
      batch.value[i],
    ]);
  });
}

describe('InletBatchTranslator', () => {
  const translator = new InletBatchTranslator({ partitions: 4 });

  it('groups the valid points by partition into point batches of the topic tenant', () => {
    const disk = seriesKey('disk', { host: 'a' });
    const first = message({
      points: [
        { series: 'cpu', ts: NOW - 1000, value: 0 },
        { series: 'mem', ts: NOW - 1000, value: 1 },
        { series: 'disk', labels: { host: 'a' }, ts: NOW - 1000, value: 2 },
        { series: 'net', ts: NOW - 1000, value: 3 },
      ],
    });
    const second = message({ points: [{ series: 'cpu', ts: new Date(NOW).toISOString(), value: 9 }] });
    const out = translator.translate(acme, source, [first, second], NOW);

    expect(out).toMatchObject({ accepted: 5, rejected: 0, deadLetters: [] });
    // One message per partition the series map to.
    expect(out.points.map((p) => p.partition).sort()).toEqual(
      [...new Set(['cpu', 'mem', disk, 'net'].map((s) => partitionOf(acme, s, 4)))].sort(),
    );
    const points = relayed(out.points);
    expect(points).toHaveLength(5);
    expect(points).toEqual(
      expect.arrayContaining([
        [partitionOf(acme, 'cpu', 4), 'acme', 'cpu', NOW - 1000, 0],
        [partitionOf(acme, 'cpu', 4), 'acme', 'cpu', NOW, 9],
        [partitionOf(acme, disk, 4), 'acme', disk, NOW - 1000, 2],
      ]),
    );
    // A series keeps its order.
    expect(points.filter((p) => (p as unknown[])[2] === 'cpu').map((p) => (p as unknown[])[4])).toEqual([
      0, 9,
    ]);
  });

  it('sends a bad point alone to the DLQ with the field named, and relays its neighbours', () => {
    const bad = message({
      points: [
        { series: 'cpu', ts: NOW, value: 1 },
        { series: 'cpu', ts: NOW, value: 'high' },
        { series: 'cpu', ts: NOW, value: 3 },
      ],
    });
    const out = translator.translate(acme, source, [bad], NOW);
    expect(out).toMatchObject({ accepted: 2, rejected: 1 });
    expect(relayed(out.points).map((p) => (p as unknown[])[4])).toEqual([1, 3]);
    const [letter] = out.deadLetters;
    expect(header(letter, 'reason')).toMatch(/^points\[1\]\.value: /);
    expect(JSON.parse(letter.value!.toString())).toEqual({
      points: [{ series: 'cpu', ts: NOW, value: 'high' }],
    });
    expect({
      topic: header(letter, 'source-topic'),
      partition: header(letter, 'source-partition'),
      offset: header(letter, 'source-offset'),
      index: header(letter, 'source-index'),
      tenant: header(letter, 'tenant'),
    }).toEqual({ topic: 'seismo.in.acme', partition: '2', offset: bad.offset, index: '1', tenant: 'acme' });
  });

  it('carries the count of points refused one by one in a produced batch, for metering', () => {
    const mixed = message({
      points: [
        { series: 'cpu', ts: NOW, value: 'high' },
        { series: 'cpu', ts: NOW, value: 3 },
      ],
    });
    const out = translator.translate(acme, source, [mixed], NOW);
    expect(out.points.map(({ value }) => decodePointBatch(value).rejected)).toEqual([1]);

    // Nothing accepted: a batch of no points carries the count.
    const allBad = message({
      points: [
        { series: 'cpu', ts: NOW, value: 'x' },
        { series: '', ts: NOW, value: 1 },
      ],
    });
    const none = translator.translate(acme, source, [allBad, message('{"points": [')], NOW);
    expect(none.points).toHaveLength(1);
    expect(decodePointBatch(none.points[0].value)).toMatchObject({ tenant: 'acme', series: [], rejected: 2 });
    expect(none.points[0].partition).toBe(partitionOf(acme, '', 4));
  });

  it('sends a message it cannot read to the DLQ whole, as it came', () => {
    const broken = message('{"points": [');
    const envelope = message({ points: [], extra: true });
    const empty: InletMessage = { offset: String(offset++), value: null, timestamp: String(NOW) };
    const good = message({ points: [{ series: 'cpu', ts: NOW, value: 1 }] });
    const out = translator.translate(acme, source, [broken, envelope, empty, good], NOW);

    expect(out).toMatchObject({ accepted: 1, rejected: 3 });
    expect(out.deadLetters.map((l) => [header(l, 'source-offset'), l.value!.toString()])).toEqual([
      [broken.offset, '{"points": ['],
      [envelope.offset, '{"points":[],"extra":true}'],
      [empty.offset, ''],
    ]);
    expect(out.deadLetters.map((l) => header(l, 'reason'))).toEqual([
      expect.stringMatching(/^body: not valid JSON/),
      expect.stringMatching(/^extra: unknown field/),
      'message: has no value',
    ]);
  });

  it('judges timestamps by when the message was written, never later than now', () => {
    const week = 7 * 86_400_000;
    // Ten days old when relayed, but three days old when it was written: taken.
    const backlog = message({ points: [{ series: 'cpu', ts: NOW - 10 * 86_400_000, value: 1 }] }, NOW - week);
    // A producer clock an hour ahead does not let a point from the future in.
    const ahead = message({ points: [{ series: 'cpu', ts: NOW + 3_600_000, value: 2 }] }, NOW + 3_600_000);
    const out = translator.translate(acme, source, [backlog, ahead], NOW);
    expect(relayed(out.points).map((p) => (p as unknown[])[4])).toEqual([1]);
    expect(header(out.deadLetters[0], 'reason')).toMatch(/^points\[0\]\.ts: /);
  });

  it('applies the limits it is given', () => {
    const small = new InletBatchTranslator({
      partitions: 4,
      limits: ingestLimits({ maxPointsPerRequest: 1 }),
    });
    const two = message({ points: [1, 2].map((value) => ({ series: 'cpu', ts: NOW, value })) });
    const out = small.translate(acme, source, [two], NOW);
    expect(out.points).toEqual([]);
    expect(header(out.deadLetters[0], 'reason')).toMatch(/^points: 2 points, more than the limit of 1/);
  });

  it('cuts a partition batch before it takes more input bytes than the bound', () => {
    const one = (value: number) => message({ points: [{ series: 'cpu', ts: NOW, value }] });
    const messages = [one(0), one(1), one(2), one(3), one(4)];
    const size = messages[0].value!.byteLength;
    const cutting = new InletBatchTranslator({ partitions: 4, maxMessageBytes: 2 * size });
    const out = cutting.translate(acme, source, messages, NOW);
    expect(out.points.map(({ value }) => Array.from(decodePointBatch(value).value))).toEqual([
      [0, 1],
      [2, 3],
      [4],
    ]);
  });

  it('refuses a whole batch for a reason, such as an unknown tenant', () => {
    const messages = [message({ points: [] }), message('not json')];
    const out = translator.refuse(source, messages, 'unknown tenant');
    expect(out).toMatchObject({ points: [], accepted: 0, rejected: 2 });
    expect(out.deadLetters.map((l) => [l.value!.toString(), header(l, 'reason')])).toEqual([
      ['{"points":[]}', 'unknown tenant'],
      ['not json', 'unknown tenant'],
    ]);
  });
});
