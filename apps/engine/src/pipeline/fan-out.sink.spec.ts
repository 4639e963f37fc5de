import { FanOutSink, FanOutSinkError } from './fan-out.sink';
import { type ProcessedBatch } from './processed-batch';
import { type BatchSink } from './sink';

function batch(firstOffset: number): ProcessedBatch {
  return {
    partition: 0,
    firstOffset,
    lastOffset: firstOffset,
    points: [],
    anomalies: [],
    usage: [],
    deadLetters: [],
  };
}

/** A sink whose writes wait until the test settles them, one by one. */
class ControlledSink implements BatchSink {
  readonly writes: Array<{
    batch: ProcessedBatch;
    resolve: () => void;
    reject: (error: Error) => void;
  }> = [];

  write(batch: ProcessedBatch): Promise<void> {
    return new Promise((resolve, reject) => this.writes.push({ batch, resolve, reject }));
  }
}

/** Resolves after every callback queued so far has run, so settled writes are seen. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('FanOutSink', () => {
  it('writes to every sink at once and resolves only when all took the batch', async () => {
    const a = new ControlledSink();
    const b = new ControlledSink();
    const sink = new FanOutSink({ a, b });
    const one = batch(0);
    let done = false;
    const writing = sink.write(one).then(() => (done = true));

    expect(a.writes.map((w) => w.batch)).toEqual([one]);
    expect(b.writes.map((w) => w.batch)).toEqual([one]);
    a.writes[0].resolve();
    await settle();
    expect(done).toBe(false);
    b.writes[0].resolve();
    await writing;
    expect(done).toBe(true);
  });

  it('fails when one sink fails, after the others settled, naming the sink', async () => {
    const a = new ControlledSink();
    const b = new ControlledSink();
    const sink = new FanOutSink({ clickhouse: a, anomalies: b });
    let outcome: unknown;
    const writing = sink.write(batch(0)).catch((error: unknown) => (outcome = error));

    b.writes[0].reject(new Error('broker unavailable'));
    await settle();
    // The other write is still running: the failure is not reported behind its back.
    expect(outcome).toBeUndefined();
    a.writes[0].resolve();
    await writing;
    expect(outcome).toBeInstanceOf(FanOutSinkError);
    expect(outcome).toMatchObject({
      sinks: ['anomalies'],
      message: 'sink anomalies failed: broker unavailable',
    });
  });

  it('writes a retried batch only to the sinks that have not taken it', async () => {
    const a = new ControlledSink();
    const b = new ControlledSink();
    const c = new ControlledSink();
    const sink = new FanOutSink({ a, b, c });
    const one = batch(0);

    const first = sink.write(one).catch((error: unknown) => error);
    a.writes[0].resolve();
    b.writes[0].reject(new Error('b down'));
    c.writes[0].reject(new Error('c down'));
    expect(await first).toMatchObject({
      sinks: ['b', 'c'],
      message: 'sink b failed: b down; sink c failed: c down',
    });

    const second = sink.write(one).catch((error: unknown) => error);
    expect([a.writes.length, b.writes.length, c.writes.length]).toEqual([1, 2, 2]);
    b.writes[1].resolve();
    c.writes[1].reject(new Error('c still down'));
    expect(await second).toMatchObject({ sinks: ['c'] });

    const third = sink.write(one);
    expect([a.writes.length, b.writes.length, c.writes.length]).toEqual([1, 2, 3]);
    c.writes[2].resolve();
    await third;

    // Taken everywhere: the same batch written again (a replay) goes to every sink again.
    const again = sink.write(one);
    expect([a.writes.length, b.writes.length, c.writes.length]).toEqual([2, 3, 4]);
    for (const s of [a, b, c]) s.writes[s.writes.length - 1].resolve();
    await again;
  });

  it('keeps apart batches that fail at the same time', async () => {
    const a = new ControlledSink();
    const b = new ControlledSink();
    const sink = new FanOutSink({ a, b });
    const [one, two] = [batch(0), batch(10)];
    const writes = [sink.write(one).catch(() => undefined), sink.write(two).catch(() => undefined)];
    a.writes[0].resolve(); // one taken by a
    a.writes[1].reject(new Error('a down'));
    b.writes[0].reject(new Error('b down'));
    b.writes[1].resolve(); // two taken by b
    await Promise.all(writes);

    void sink.write(two);
    void sink.write(one);
    expect(a.writes.map((w) => w.batch.firstOffset)).toEqual([0, 10, 10]);
    expect(b.writes.map((w) => w.batch.firstOffset)).toEqual([0, 10, 0]);
  });

  it('needs a sink', () => {
    expect(() => new FanOutSink({})).toThrow(RangeError);
  });
});
