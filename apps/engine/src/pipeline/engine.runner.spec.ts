import { encodePointBatch, PointBatchBuilder } from '@seismo/pipeline';
import { setImmediate as tick } from 'node:timers/promises';
import { BatchProcessor } from './batch.processor';
import {
  type DedupToken,
  type PartitionCheckpoint,
  type PartitionMark,
  type SeriesCheckpoint,
  type UsageRecord,
} from '@seismo/storage';
import { type CheckpointStore, EngineRunner } from './engine.runner';
import { InMemoryPointLog } from './in-memory-point.log';
import { InMemoryPointQueue } from './in-memory-point.queue';
import { PointQueueException, PointQueueExceptionCode } from './point-queue.exception';
import { type PointConsumer, type QueueHandler } from './point-queue';
import { type ProcessedBatch } from './processed-batch';
import { type BatchSink } from './sink';
import { UsageCommitter, type UsageStore } from './usage.committer';

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

/** A sink whose writes resolve only when released, one by one, in order. */
class HeldSink implements BatchSink {
  readonly started: ProcessedBatch[] = [];
  readonly written: ProcessedBatch[] = [];
  private readonly releases: Array<() => void> = [];

  write(batch: ProcessedBatch): Promise<void> {
    this.started.push(batch);
    return new Promise((resolve) =>
      this.releases.push(() => {
        this.written.push(batch);
        resolve();
      }),
    );
  }

  release(): void {
    const next = this.releases.shift();
    if (!next) throw new Error('no write is waiting');
    next();
  }
}

/**
 * Makes `queue` fail the commit of `offset` the first `times` times with `error()`, and
 * counts those failures.
 */
function failingCommits(queue: InMemoryPointQueue, offset: number, times: number, error: () => Error) {
  const failed = { count: 0 };
  const commit = queue.commit.bind(queue);
  queue.commit = (partition, at) => {
    if (at === offset && failed.count < times) {
      failed.count++;
      return Promise.reject(error());
    }
    return commit(partition, at);
  };
  return failed;
}

/** usage_hourly in memory: every INSERT, and each partition's mark. */
class UsageStoreFake implements UsageStore {
  readonly inserts: Array<{ rows: readonly UsageRecord[]; marks: readonly PartitionMark[] }> = [];
  constructor(private readonly through: Record<number, number>) {}

  async insertBatch(rows: readonly UsageRecord[], _token: DedupToken, marks: readonly PartitionMark[] = []) {
    this.inserts.push({ rows, marks });
    // maxMap: a mark only grows.
    for (const mark of marks)
      this.through[mark.partition] = Math.max(mark.offset, this.through[mark.partition] ?? -1);
  }

  async writtenThrough(_source: string, partition: number): Promise<number> {
    return this.through[partition] ?? -1;
  }
}

/** What a queue answers a member the group moved past. */
function fenced(): PointQueueException {
  return new PointQueueException(PointQueueExceptionCode.FENCED, 'the group moved on');
}

const quiet = { log: jest.fn(), warn: jest.fn(), error: jest.fn() };
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

    // Batch 2-2 may be written while 0-1 is committed, never committed before it is written.
    expect(committedWhileWriting[0]).toBe(-1);
    expect(committedWhileWriting[1]).toBeLessThan(2);
    expect(sink.written.map((b) => [b.firstOffset, b.lastOffset, b.points.length])).toEqual([
      [0, 1, 10],
      [2, 2, 0],
    ]);
    expect(quiet.warn).toHaveBeenCalledWith(
      expect.stringMatching(/^dead letter, partition 0 offset 2: point batch:/),
    );
  });

  it('scores the next batch while the previous one is written, and commits in order', async () => {
    const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1 << 20 });
    const sink = new HeldSink();
    const queue = new InMemoryPointQueue(log, { maxBatchMessages: 1, retryDelayMs: 1 });
    const processor = new BatchProcessor({ retentionOf: () => ({ pointsDays: 1, anomaliesDays: 1 }) });
    const runner = new EngineRunner(queue, processor, sink, { logger: quiet, maxWritesInFlight: 2 });
    for (let m = 0; m < 4; m++) await queue.append(0, message(m * 5, 5));
    await runner.start();

    // The first write holds; the second batch is scored meanwhile, and there the partition
    // waits: two batches in flight, the third not scored.
    await until(() => processor.lastOffset(0) === 1, 'the second batch was scored');
    for (let i = 0; i < 20; i++) await tick();
    expect(processor.lastOffset(0)).toBe(1);
    expect(sink.started.map((b) => b.lastOffset)).toEqual([0]);
    expect(log.committed(0)).toBe(-1);

    sink.release();
    await until(() => log.committed(0) === 0, 'the first batch was committed');
    await until(() => processor.lastOffset(0) === 2, 'the third batch was scored');
    for (let m = 1; m < 4; m++) {
      await until(() => sink.started.length > m, `write ${m} started`);
      sink.release();
    }
    await until(() => log.committed(0) === 3, 'every batch was committed');
    await runner.stop();
    expect(sink.written.map((b) => b.lastOffset)).toEqual([0, 1, 2, 3]);
  });

  it('retries a commit that failed, then goes on', async () => {
    const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1 << 20 });
    const queue = new InMemoryPointQueue(log, { maxBatchMessages: 2, retryDelayMs: 1 });
    failingCommits(queue, 1, 2, () => new Error('the broker timed out'));
    const sink = new RecordingSink();
    const processor = new BatchProcessor({ retentionOf: () => ({ pointsDays: 1, anomaliesDays: 1 }) });
    const runner = new EngineRunner(queue, processor, sink, { retryDelayMs: 1, logger: quiet });
    for (let m = 0; m < 4; m++) await queue.append(0, message(m * 5, 5));
    await runner.start();
    await until(() => log.committed(0) === 3, 'every batch was committed');
    await runner.stop();
    expect(sink.written.map((b) => b.lastOffset)).toEqual([1, 3]);
    expect(quiet.error).toHaveBeenCalledWith(
      'committing partition 0 offsets 0-1 failed (attempt 2), retrying in 2 ms: the broker timed out',
    );
  });

  it('drops the batches behind a refused commit, and takes the partition again from its last commit', async () => {
    const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1 << 20 });
    const sink = new HeldSink();
    const queue = new InMemoryPointQueue(log, { maxBatchMessages: 2, retryDelayMs: 1 });
    const refusals = failingCommits(queue, 3, 1, fenced);
    const processor = new BatchProcessor({ retentionOf: () => ({ pointsDays: 1, anomaliesDays: 1 }) });
    const runner = new EngineRunner(queue, processor, sink, { logger: quiet, maxWritesInFlight: 3 });
    for (let m = 0; m < 6; m++) await queue.append(0, message(m * 5, 5));
    await runner.start();

    await until(() => processor.lastOffset(0) === 5, 'three batches were scored');
    sink.release(); // offsets 0-1: committed
    await until(() => sink.started.length === 2, 'the second write started');
    sink.release(); // offsets 2-3: written, the commit refused
    await until(() => refusals.count === 1, 'the commit was refused');
    // 4-5 was written meanwhile (writes do not wait for commits); its commit is dropped.
    await until(() => sink.started.length === 3, 'the third write started');
    sink.release();
    // As after a rebalance, the next delivery of the partition finds the refusal, and the
    // partition is taken again from its commit.
    await queue.append(0, message(30, 5));
    await until(() => sink.started.length === 4, 'the partition was delivered again');
    expect(sink.started.map((b) => [b.firstOffset, b.lastOffset])).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
      [2, 3],
    ]);
    expect(log.committed(0)).toBe(1);
    sink.release();
    await until(() => sink.started.length === 5, 'the next write started');
    sink.release();
    await until(() => sink.started.length === 6, 'the last write started');
    sink.release();
    await until(() => log.committed(0) === 6, 'every batch was committed');
    await runner.stop();
    expect(sink.started.map((b) => b.lastOffset)).toEqual([1, 3, 5, 3, 5, 6]);
  });

  it("leaves out the usage of batches stored already, and marks the others' series stored once it is", async () => {
    const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1 << 20 });
    const queue = new InMemoryPointQueue(log, { maxBatchMessages: 2, retryDelayMs: 1 });
    // The commit of 6-7 is refused once after its usage was stored: delivered again from 5.
    const refusals = failingCommits(queue, 7, 1, fenced);
    const processor = new BatchProcessor({ retentionOf: () => ({ pointsDays: 1, anomaliesDays: 1 }) });
    const stored = jest.spyOn(processor, 'stored');
    // An earlier owner stored the usage of offsets 0-3, and crashed before committing them.
    const store = new UsageStoreFake({ 0: 3 });
    const runner = new EngineRunner(queue, processor, new RecordingSink(), {
      logger: quiet,
      usage: new UsageCommitter(store, 'spec', { lingerMs: 0, logger: quiet }),
    });
    for (let m = 0; m < 8; m++) await queue.append(0, message(m * 5, 5));
    await runner.start();
    await until(() => refusals.count === 1, 'the commit of 6-7 was refused');
    await queue.append(0, message(40, 5));
    await until(() => log.committed(0) === 8, 'every batch was committed');
    await runner.stop();
    // 6-7 again (its usage is stored) adds nothing; 8 comes after it.
    expect(store.inserts.map(({ marks }) => marks.map((mark) => mark.offset))).toEqual([[5], [7], [8]]);
    expect(store.inserts[0].marks).toEqual([{ source: 'spec', partition: 0, offset: 5 }]);
    // Offsets 4-8: 5 messages of 5 points, each counted once.
    const ingested = store.inserts.flatMap(({ rows }) => rows).map((row) => row.pointsIngested);
    expect(ingested).toEqual([10, 10, 5]);
    expect(stored).toHaveBeenCalledTimes(3);
  });

  it('counts a batch once when the commit before it is refused while its usage INSERT is in flight', async () => {
    const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1 << 20 });
    const queue = new InMemoryPointQueue(log, { maxBatchMessages: 2, retryDelayMs: 1 });
    const refusals = failingCommits(queue, 1, 1, fenced);
    const processor = new BatchProcessor({ retentionOf: () => ({ pointsDays: 1, anomaliesDays: 1 }) });
    const store = new UsageStoreFake({});
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const insert = store.insertBatch.bind(store);
    let inserts = 0;
    store.insertBatch = async (...args) => {
      if (++inserts === 2) await held; // 2-3's INSERT, while the commit of 0-1 is refused
      return insert(...args);
    };
    const runner = new EngineRunner(queue, processor, new RecordingSink(), {
      logger: quiet,
      usage: new UsageCommitter(store, 'spec', { lingerMs: 0, logger: quiet }),
    });
    for (let m = 0; m < 4; m++) await queue.append(0, message(m * 5, 5));
    await runner.start();
    await until(
      () => refusals.count === 1 && inserts === 2,
      'the commit of 0-1 was refused, 2-3 being counted',
    );
    await queue.append(0, message(20, 5));
    release();
    await until(() => log.committed(0) === 4, 'every batch was committed');
    await runner.stop();
    // 0-1 and 2-3 delivered again after the refusal: their usage, stored once, stays out.
    const ingested = store.inserts
      .flatMap(({ rows }) => rows)
      .reduce((sum, row) => sum + row.pointsIngested, 0);
    expect(ingested).toBe(25);
  });

  it('writes the next batches while a usage INSERT is slow, and commits none before its usage is stored', async () => {
    const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1 << 20 });
    const queue = new InMemoryPointQueue(log, { maxBatchMessages: 1, retryDelayMs: 1 });
    const processor = new BatchProcessor({ retentionOf: () => ({ pointsDays: 1, anomaliesDays: 1 }) });
    const store = new UsageStoreFake({});
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const insert = store.insertBatch.bind(store);
    store.insertBatch = async (...args) => {
      await held;
      return insert(...args);
    };
    const sink = new RecordingSink();
    const runner = new EngineRunner(queue, processor, sink, {
      logger: quiet,
      maxWritesInFlight: 1,
      usage: new UsageCommitter(store, 'spec', { lingerMs: 0, logger: quiet }),
    });
    for (let m = 0; m < 4; m++) await queue.append(0, message(m * 5, 5));
    await runner.start();
    await until(() => sink.written.length === 4, 'every batch was written');
    expect(log.committed(0)).toBe(-1);
    release();
    await until(() => log.committed(0) === 3, 'every batch was committed');
    await runner.stop();
    // The first INSERT held; the three batches written meanwhile shared the next.
    expect(store.inserts.map(({ marks }) => marks.map((mark) => mark.offset))).toEqual([[0], [3]]);
    expect(store.inserts[1].rows).toHaveLength(1);
    expect(store.inserts[1].rows[0].pointsIngested).toBe(15);
  });

  it('reads the tenants again for a tenant it does not know, and scores its points once it knows it', async () => {
    const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1 << 20 });
    const known = new Set<string>();
    const processor = new BatchProcessor({
      retentionOf: (tenant) => {
        if (!known.has(tenant)) throw new Error(`no tenant ${tenant}`);
        return { pointsDays: 1, anomaliesDays: 1 };
      },
    });
    const looked: string[] = [];
    const sink = new RecordingSink();
    const queue = new InMemoryPointQueue(log, { maxBatchMessages: 1, retryDelayMs: 1 });
    const runner = new EngineRunner(queue, processor, sink, {
      logger: quiet,
      refreshTenants: async (tenant) => {
        looked.push(tenant);
        if (tenant === 'acme') known.add('acme'); // made on another process a moment ago
      },
    });
    await queue.append(0, message(0, 5)); // acme
    const stranger = new PointBatchBuilder('ghost');
    stranger.add('cpu', T0, 1);
    await queue.append(0, encodePointBatch(stranger.build()));
    await queue.append(0, encodePointBatch(stranger.build()));
    await runner.start();
    await until(() => log.committed(0) === 2, 'every batch was committed');
    await runner.stop();

    expect(sink.written.map((b) => [b.points.length, b.deadLetters.length])).toEqual([
      [5, 0],
      [0, 1],
      [0, 1],
    ]);
    // Looked up once per batch naming an unknown tenant (the directory spares repeated reads).
    expect(looked).toEqual(['acme', 'ghost', 'ghost']);
    expect(sink.written[1].deadLetters[0].reason).toMatch(/no retention for tenant ghost/);
  });

  it('drops the state of a partition another engine took', async () => {
    let handler: QueueHandler | undefined;
    const consumer: PointConsumer = {
      partitions: 2,
      run: async (h) => void (handler = h),
      commit: async () => undefined,
      stop: async () => undefined,
    };
    const processor = new BatchProcessor({ retentionOf: () => ({ pointsDays: 1, anomaliesDays: 1 }) });
    const runner = new EngineRunner(consumer, processor, new RecordingSink(), { logger: quiet });
    await runner.start();
    for (const partition of [0, 1]) {
      await handler!.eachBatch({ partition, messages: [{ offset: 0, value: message(0, 5) }] });
    }
    expect(processor.seriesCount()).toBe(2);
    handler!.revoked!(1);
    expect(processor.lastOffset(1)).toBeUndefined();
    expect(processor.lastOffset(0)).toBe(0);
    expect(processor.seriesCount()).toBe(1);
    expect(quiet.log).toHaveBeenCalledWith("partition 1: now another engine's; its state here is dropped");
    await runner.stop();
  });

  it('refuses maxWritesInFlight below 1', () => {
    const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1 << 20 });
    const queue = new InMemoryPointQueue(log, { maxBatchMessages: 1 });
    const processor = new BatchProcessor({ retentionOf: () => ({ pointsDays: 1, anomaliesDays: 1 }) });
    expect(() => new EngineRunner(queue, processor, new RecordingSink(), { maxWritesInFlight: 0 })).toThrow(
      /maxWritesInFlight must be a positive integer, got 0/,
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

  describe('with checkpoints', () => {
    /** A checkpoint store in memory, as CheckpointRepository behaves: newest row per series, rounds closed by a marker. */
    class MemoryCheckpoints implements CheckpointStore {
      readonly rounds: Array<{ partition: number; offset: number; series: string[] }> = [];
      private readonly rows = new Map<string, SeriesCheckpoint & { offset: number }>();
      private readonly markers = new Map<number, number>();
      async read(_source: string, partition: number, upTo: number): Promise<PartitionCheckpoint> {
        const series = [...this.rows.entries()]
          .filter(([key, row]) => key.startsWith(`${partition}/`) && row.offset <= upTo)
          .map(([, row]) => row);
        const marker = this.markers.get(partition) ?? -1;
        return { offset: marker <= upTo ? marker : -1, series };
      }
      async write(_source: string, partition: number, offset: number, series: readonly SeriesCheckpoint[]) {
        for (const row of series)
          this.rows.set(`${partition}/${row.tenantId}/${row.series}`, { ...row, offset });
        this.markers.set(partition, offset);
        this.rounds.push({ partition, offset, series: series.map((row) => row.series) });
      }
    }

    function checkpointed(sink: BatchSink, log: InMemoryPointLog, store: CheckpointStore, intervalMs = 0) {
      const queue = new InMemoryPointQueue(log, { maxBatchMessages: 2, retryDelayMs: 1 });
      const processor = new BatchProcessor({ retentionOf: () => ({ pointsDays: 1, anomaliesDays: 1 }) });
      const runner = new EngineRunner(queue, processor, sink, {
        retryDelayMs: 1,
        logger: quiet,
        checkpoints: { store, source: 'test', intervalMs },
      });
      return { queue, runner };
    }

    /** What one engine that never stopped writes for `points`, one message each. */
    async function runWhole(points: Uint8Array[]): Promise<RecordingSink> {
      const sink = new RecordingSink();
      const whole = checkpointed(
        sink,
        new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1 << 20 }),
        new MemoryCheckpoints(),
      );
      await whole.runner.start();
      for (const value of points) await whole.queue.append(0, value);
      await until(() => sink.written.at(-1)?.lastOffset === points.length - 1, 'the whole run was written');
      await whole.runner.stop();
      return sink;
    }

    it('checkpoints after the commit, at the committed offset, with the series that changed', async () => {
      const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1 << 20 });
      const store = new MemoryCheckpoints();
      const { queue, runner } = checkpointed(new RecordingSink(), log, store);
      await runner.start();
      await queue.append(0, message(0, 5));
      await until(() => store.rounds.length === 1, 'a round was written');
      await runner.stop();
      expect(store.rounds[0]).toEqual({ partition: 0, offset: 0, series: ['cpu'] });
      // Stopping closes with a round too; nothing changed since, so it holds no series.
      expect(store.rounds.at(-1)).toEqual({ partition: 0, offset: 0, series: [] });
    });

    it('staggers the first rounds of partitions taken together, then keeps each an interval apart', async () => {
      const log = new InMemoryPointLog({ partitions: 4, maxPendingBytes: 1 << 20 });
      const store = new MemoryCheckpoints();
      let now = 0;
      const queue = new InMemoryPointQueue(log, { maxBatchMessages: 2, retryDelayMs: 1 });
      const runner = new EngineRunner(
        queue,
        new BatchProcessor({ retentionOf: () => ({ pointsDays: 1, anomaliesDays: 1 }) }),
        new RecordingSink(),
        {
          retryDelayMs: 1,
          logger: quiet,
          checkpoints: { store, source: 'test', intervalMs: 1000, clock: () => now },
        },
      );
      await runner.start();
      let offset = 0;
      /** One message to every partition at `at`, and the partitions that took a round for it. */
      const roundsAt = async (at: number): Promise<number[]> => {
        now = at;
        const before = store.rounds.length;
        for (let partition = 0; partition < 4; partition++) await queue.append(partition, message(at, 1));
        offset++;
        await until(
          () => [0, 1, 2, 3].every((partition) => log.committed(partition) === offset - 1),
          `the messages at ${at} were committed`,
        );
        return store.rounds
          .slice(before)
          .map((round) => round.partition)
          .sort();
      };
      // Due 1000, 382, 764 and 146 ms after the assignment: never all at once.
      expect(await roundsAt(100)).toEqual([]);
      expect(await roundsAt(400)).toEqual([1, 3]);
      expect(await roundsAt(800)).toEqual([2]);
      expect(await roundsAt(1000)).toEqual([0]);
      expect(await roundsAt(1300)).toEqual([]);
      expect(await roundsAt(1500)).toEqual([1, 3]);
      await runner.stop();
    });

    it('writes no round on stop for a partition that consumed nothing', async () => {
      const log = new InMemoryPointLog({ partitions: 2, maxPendingBytes: 1 << 20 });
      const store = new MemoryCheckpoints();
      const { queue, runner } = checkpointed(new RecordingSink(), log, store);
      await runner.start();
      await queue.append(0, message(0, 5));
      await until(() => store.rounds.length === 1, 'a round was written');
      await runner.stop();
      expect(store.rounds.map((r) => r.partition)).not.toContain(1);
      expect(quiet.warn).not.toHaveBeenCalled();
    });

    it('after a refused commit, drops the batches in flight and scores them again from the restored state', async () => {
      const points = Array.from({ length: 8 }, (_, m) => message(m * 20, 20));
      const uninterrupted = await runWhole(points);

      // The commit of offset 3 is refused once (as Kafka refuses a member the group moved
      // past): the batches scored after it are dropped, the partition restored from its
      // checkpoint and delivered again from the commit.
      const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1 << 20 });
      const queue = new InMemoryPointQueue(log, { maxBatchMessages: 2, retryDelayMs: 1 });
      const refusals = failingCommits(queue, 3, 1, fenced);
      const sink = new RecordingSink();
      const runner = new EngineRunner(
        queue,
        new BatchProcessor({ retentionOf: () => ({ pointsDays: 1, anomaliesDays: 1 }) }),
        sink,
        {
          retryDelayMs: 1,
          logger: quiet,
          checkpoints: { store: new MemoryCheckpoints(), source: 'test', intervalMs: 0 },
        },
      );
      for (const value of points) await queue.append(0, value);
      await runner.start();
      await until(() => log.committed(0) === 7, 'every batch was committed');
      await runner.stop();

      expect(refusals.count).toBe(1);
      expect(quiet.warn).toHaveBeenCalledWith('partition 0 offsets 2-3 stay uncommitted: the group moved on');
      // Every point's score as in the uninterrupted run: nothing was learned twice.
      const scores = (batches: ProcessedBatch[]) => {
        const byTs = new Map<number, number>();
        for (const b of batches) for (const p of b.points) byTs.set(p.ts, p.score);
        return [...byTs].sort((a, b) => a[0] - b[0]);
      };
      expect(scores(sink.written)).toEqual(scores(uninterrupted.written));
      expect(new Set(sink.written.flatMap((b) => b.points.map((p) => p.ts))).size).toBe(160);
    });

    it('waits the interval between rounds, and closes with one on stop', async () => {
      const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1 << 20 });
      const store = new MemoryCheckpoints();
      const { queue, runner } = checkpointed(new RecordingSink(), log, store, 3_600_000);
      await runner.start();
      for (let m = 0; m < 4; m++) await queue.append(0, message(m * 5, 5));
      await until(() => log.committed(0) === 3, 'every batch was committed');
      expect(store.rounds.map((r) => r.offset)).toEqual([]);
      await runner.stop();
      expect(store.rounds).toEqual([{ partition: 0, offset: 3, series: ['cpu'] }]);
    });

    it('restores on restart, so the next points score as in a run that never stopped', async () => {
      const points = Array.from({ length: 12 }, (_, m) => message(m * 20, 20));
      const uninterrupted = await runWhole(points);

      const store = new MemoryCheckpoints();
      const before = new RecordingSink();
      const first = checkpointed(
        before,
        new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1 << 20 }),
        store,
      );
      await first.runner.start();
      for (const value of points.slice(0, 6)) await first.queue.append(0, value);
      await until(() => before.written.at(-1)?.lastOffset === 5, 'the first half was written');
      await first.runner.stop();

      // A new process: a new log that starts past the checkpoint, and a new processor.
      const after = new RecordingSink();
      const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1 << 20, firstOffsets: [6] });
      const second = checkpointed(after, log, store);
      await second.runner.start();
      for (const value of points.slice(6)) await second.queue.append(0, value);
      await until(() => after.written.at(-1)?.lastOffset === 11, 'the second half was written');
      await second.runner.stop();

      const scores = (batches: ProcessedBatch[]) =>
        batches.flatMap((b) => b.points.map((p) => [p.ts, p.score]));
      expect(scores([...before.written, ...after.written])).toEqual(scores(uninterrupted.written));
      expect(quiet.log).toHaveBeenCalledWith('partition 0: restored 1 series as of offset 5');
    });
  });
});
