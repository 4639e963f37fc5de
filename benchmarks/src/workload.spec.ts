import { JsonPointsDecoder } from '@seismo/ingest';
import { decodePointBatch, partitionOf } from '@seismo/pipeline';
import { probeJson, probeName, seriesLabels, Workload } from './workload';

const START = Date.UTC(2030, 0, 1);
const STEP = 10_000;

describe('Workload', () => {
  const workload = new Workload(12, START, STEP);

  it('names every series apart, as ingest keys them', () => {
    expect(workload.name(42 % 12)).toBe(
      'http_request_duration_seconds{host="web-00006",route="/api/v1/users",status="201"}',
    );
    const names = new Set(Array.from({ length: 12 }, (_, i) => workload.name(i)));
    expect(names.size).toBe(12);
    expect(seriesLabels(99_999).host).toBe('web-99999');
  });

  it('advances every series in turn, each one sample later per round', () => {
    expect(workload.point(0)).toMatchObject({ series: 0, sample: 0, ts: START });
    expect(workload.point(13)).toMatchObject({ series: 1, sample: 1, ts: START + STEP });
    expect(workload.point(13).value).toBe(workload.value(1, 1));
  });

  it('writes JSON bodies that ingest decodes into the same points', () => {
    const body = workload.jsonBody(5, 30, [probeJson(3, 7, START, true)]);
    const decoded = new JsonPointsDecoder().decode(Buffer.from(body), START);
    expect(decoded.rejected).toEqual([]);
    expect(decoded.points).toHaveLength(26);
    for (let k = 5; k < 30; k++) {
      const expected = workload.point(k);
      expect(decoded.points[k - 5]).toMatchObject({
        series: workload.name(expected.series),
        t: expected.ts,
        value: expected.value,
      });
    }
    expect(decoded.points[25]).toMatchObject({ series: probeName(3), t: START + 7000, value: 2 });
  });

  it('splits a request into one message per partition, each series on its own partition', () => {
    const messages = workload.messages('acme', 4, 0, 100);
    expect(new Set(messages.map((m) => m.partition)).size).toBe(messages.length);
    let points = 0;
    for (const message of messages) {
      const batch = decodePointBatch(message.value);
      expect(batch.tenant).toBe('acme');
      points += batch.t.length;
      for (let i = 0; i < batch.t.length; i++) {
        expect(partitionOf('acme', batch.series[batch.seriesIndex[i]], 4)).toBe(message.partition);
      }
    }
    expect(points).toBe(100);
  });
});

describe('probes', () => {
  it('are named apart from the fleet and from each other', () => {
    expect(probeName(7)).toBe('seismo_bench_probe{probe="00007"}');
    expect(probeName(7)).not.toBe(probeName(8));
  });
});
