import { encodePointBatch, PointBatchBuilder } from '@seismo/pipeline';
import { setImmediate as tick } from 'node:timers/promises';
import { BatchProcessor } from './batch.processor';
import { EngineRunner } from './engine.runner';
import { InMemoryPointLog } from './in-memory-point.log';
import { InMemoryPointQueue } from './in-memory-point.queue';
import { type ProcessedBatch } from './processed-batch';
import { type BatchSink } from './sink';

const T0 = Date.UTC(2031, 0, 1);

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (predicate()) return;
    await tick();
  }
  throw new Error(`timed out waiting until ${what}`);
}

function message(from: number, count: number): Uint8Array {
  const builder = new PointBatchBuilder('acme');
  for (let i = from; i < from + count; i++) builder.add('cpu', T0 + i * 1000, i % 7);
  return encodePointBatch(builder.build());
}

/** A sink that records what it was given and fails its first `failures` writes. */
class RecordingSink implements BatchSink {
  readonly written: ProcessedBatch[] = [];
  attempts = 0;
  constructor(
    private failures = 0,
    private readonly beforeResolve: () => void = () => undefined,
  ) {}

  async write(batch: ProcessedBatch): Promise<void> {
    this.attempts++;
    if (this.failures-- > 0) throw new Error('ClickHouse is down');
    this.beforeResolve();
    this.written.push(batch);
  }
}

const quiet = { warn: jest.fn(), error: jest.fn() };
beforeEach(() => jest.clearAllMocks());

function engine(sink: BatchSink, log: InMemoryPointLog) {
  const queue = new InMemoryPointQueue(log, { maxBatchMessages: 2, retryDelayMs: 1 });
  const processor = new BatchProcessor({ retentionOf: () => ({ pointsDays: 1, anomaliesDays: 1 }) });
  return { queue, runner: new EngineRunner(queue, processor, sink, { retryDelayMs: 1, logger: quiet }) };
}

describe('EngineRunner', () => {
  it('commits a batch only once the sink has resolved', async () => {
    const log = new InMemoryPointLog({ partitions: 2, maxPendingBytes: 1 << 20 });
    const committedWhileWriting: number[] = [];
    const sink = new RecordingSink(0, () => committedWhileWriting.push(log.committed(0)));
    const { queue, runner } = engine(sink, log);
    await queue.append(0, message(0, 5));
    await queue.append(0, message(5, 5));
    await queue.append(0, new Uint8Array([42]));
    await runner.start();
    await until(() => log.committed(0) === 2, 'partition 0 was committed');
    await runner.stop();

    expect(committedWhileWriting).toEqual([-1, 1]);
    expect(sink.written.map((b) => [b.firstOffset, b.lastOffset, b.points.length])).toEqual([
      [0, 1, 10],
      [2, 2, 0],
    ]);
    expect(quiet.warn).toHaveBeenCalledWith(
      expect.stringMatching(/^dead letter, partition 0 offset 2: point batch:/),
    );
  });

  it('retries a failed write with the rows already scored, then commits', async () => {
    const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1 << 20 });
    const sink = new RecordingSink(2);
    const { queue, runner } = engine(sink, log);
    await queue.append(0, message(0, 5));
    await runner.start();
    await until(() => log.committed(0) === 0, 'the batch was committed');
    await runner.stop();

    expect(sink.attempts).toBe(3);
    expect(sink.written).toHaveLength(1);
    expect(quiet.error).toHaveBeenCalledWith(
      expect.stringMatching(
        /^writing partition 0 offsets 0-0 failed \(attempt 2\), retrying in 2 ms: ClickHouse is down/,
      ),
    );
  });

  it('leaves a batch it could not write uncommitted when stopped, for the next engine to replay', async () => {
    const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1 << 20 });
    const down = new RecordingSink(Number.POSITIVE_INFINITY);
    const first = engine(down, log);
    await first.queue.append(0, message(0, 5));
    await first.runner.start();
    await until(() => down.attempts >= 2, 'the write failed twice');
    await first.runner.stop();
    expect(log.committed(0)).toBe(-1);

    const up = new RecordingSink();
    const second = engine(up, log);
    await second.runner.start();
    await until(() => log.committed(0) === 0, 'the replayed batch was committed');
    await second.runner.stop();
    expect(up.written.map((b) => [b.firstOffset, b.lastOffset, b.points.length])).toEqual([[0, 0, 5]]);
  });
});
