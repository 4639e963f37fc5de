import { setImmediate as tick } from 'node:timers/promises';
import { InMemoryPointLog } from './in-memory-point.log';
import { InMemoryPointQueue } from './in-memory-point.queue';
import { type QueueBatch } from './point-queue';
import { PointQueueException, PointQueueExceptionCode } from './point-queue.exception';

const bytes = (n: number, fill = 0) => new Uint8Array(n).fill(fill);

/** Resolves once `predicate` holds, checking after every turn of the event loop. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (predicate()) return;
    await tick();
  }
  throw new Error(`timed out waiting until ${what}`);
}

function offsets(batch: QueueBatch): number[] {
  return batch.messages.map((m) => m.offset);
}

let queues: InMemoryPointQueue[] = [];
function queueOver(log: InMemoryPointLog, maxBatchMessages = 4, retryDelayMs = 1): InMemoryPointQueue {
  const queue = new InMemoryPointQueue(log, { maxBatchMessages, retryDelayMs });
  queues.push(queue);
  return queue;
}
afterEach(async () => {
  await Promise.all(queues.map((q) => q.stop()));
  queues = [];
});

describe('InMemoryPointQueue', () => {
  it('hands the consumer the decoded batch an append gave with its bytes, also after waiting for room', async () => {
    const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 2 });
    const queue = queueOver(log, 1);
    const decoded = [0, 1, 2].map((n) => ({
      tenant: 'acme',
      series: [`s${n}`],
      t: Float64Array.of(n),
      value: Float64Array.of(n),
      seriesIndex: Uint32Array.of(0),
    }));
    const appended = [
      queue.append(0, bytes(1, 0), decoded[0]),
      queue.append(0, bytes(1, 1)),
      queue.append(0, bytes(1, 2), decoded[2]),
    ];
    // Two bytes of room: the third append waits until the first message is committed.
    expect(log.pendingMessages(0)).toBe(2);
    const seen: QueueBatch[] = [];
    await queue.run({
      eachBatch: async (batch) => {
        seen.push(batch);
        await queue.commit(batch.partition, batch.messages[0].offset);
      },
    });
    expect(await Promise.all(appended)).toEqual([0, 1, 2]);
    await until(() => seen.length === 3, 'all 3 messages arrived');
    const messages = seen.map((batch) => batch.messages[0]);
    expect(messages[0].decoded).toBe(decoded[0]);
    expect(messages[1]).not.toHaveProperty('decoded');
    expect(messages[2].decoded).toBe(decoded[2]);
  });

  it('delivers each partition in offset order, in batches of at most maxBatchMessages', async () => {
    const log = new InMemoryPointLog({ partitions: 2, maxPendingBytes: 1 << 20 });
    const queue = queueOver(log, 4);
    for (let i = 0; i < 10; i++) {
      expect(await queue.append(i % 2, bytes(1, i))).toBe(Math.floor(i / 2));
    }
    const seen: QueueBatch[] = [];
    await queue.run({
      eachBatch: async (batch) => {
        seen.push(batch);
        await queue.commit(batch.partition, batch.messages[batch.messages.length - 1].offset);
      },
    });
    await until(() => seen.reduce((n, b) => n + b.messages.length, 0) === 10, 'all 10 messages arrived');

    for (const partition of [0, 1]) {
      const batches = seen.filter((b) => b.partition === partition);
      expect(batches.flatMap(offsets)).toEqual([0, 1, 2, 3, 4]);
      expect(batches.flatMap((b) => b.messages.map((m) => m.value[0]))).toEqual(
        [0, 2, 4, 6, 8].map((v) => v + partition),
      );
      for (const batch of batches) expect(batch.messages.length).toBeLessThanOrEqual(4);
    }
    expect(log.pendingBytes(0) + log.pendingBytes(1)).toBe(0);
    expect(log.pendingMessages(0) + log.pendingMessages(1)).toBe(0);
  });

  it('never runs two batches of one partition at once', async () => {
    const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1 << 20 });
    const queue = queueOver(log, 1);
    let running = 0;
    let most = 0;
    let done = 0;
    await queue.run({
      eachBatch: async (batch) => {
        most = Math.max(most, ++running);
        await tick();
        running--;
        done++;
        await queue.commit(0, batch.messages[0].offset);
      },
    });
    for (let i = 0; i < 5; i++) await queue.append(0, bytes(1));
    await until(() => done === 5, 'five batches ran');
    expect(most).toBe(1);
  });

  it('resumes after the last commit in a new queue over the same log, with the same batch cuts', async () => {
    const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1 << 20 });
    const first = queueOver(log, 3);
    for (let i = 0; i < 5; i++) await first.append(0, bytes(1, i));
    const seenFirst: number[][] = [];
    await first.run({
      eachBatch: async (batch) => {
        seenFirst.push(offsets(batch));
        // Only the first batch is committed: the second is "lost in a crash" before its commit.
        if (batch.messages[0].offset === 0) await first.commit(0, 2);
      },
    });
    await until(() => seenFirst.length === 2, 'two batches arrived');
    await first.stop();
    expect(seenFirst).toEqual([
      [0, 1, 2],
      [3, 4],
    ]);
    expect(log.committed(0)).toBe(2);

    // More messages arrive before the restart; the replay still cuts the uncommitted batch
    // where it was cut first, so a sink's dedup token for it comes out the same.
    for (let i = 5; i < 8; i++) await first.append(0, bytes(1, i));
    const second = queueOver(log, 3);
    const seenSecond: number[][] = [];
    await second.run({
      eachBatch: async (batch) => {
        seenSecond.push(offsets(batch));
        await second.commit(0, batch.messages[batch.messages.length - 1].offset);
      },
    });
    await until(() => log.committed(0) === 7, 'everything was committed');
    expect(seenSecond).toEqual([
      [3, 4],
      [5, 6, 7],
    ]);
  });

  it('delivers a batch whose handler failed again, from the last commit', async () => {
    const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1 << 20 });
    const queue = queueOver(log, 2);
    for (let i = 0; i < 3; i++) await queue.append(0, bytes(1));
    const seen: number[][] = [];
    let failures = 0;
    await queue.run({
      eachBatch: async (batch) => {
        seen.push(offsets(batch));
        if (batch.messages[0].offset === 2 && failures++ < 2) throw new Error('sink unavailable');
        await queue.commit(0, batch.messages[batch.messages.length - 1].offset);
      },
    });
    await until(() => log.committed(0) === 2, 'everything was committed');
    expect(seen).toEqual([[0, 1], [2], [2], [2]]);
  });

  it('makes append wait while the partition is full, and admits it after a commit', async () => {
    const log = new InMemoryPointLog({ partitions: 2, maxPendingBytes: 100 });
    const queue = queueOver(log);
    expect(await queue.append(0, bytes(40))).toBe(0);
    expect(await queue.append(0, bytes(40))).toBe(1);
    let third: number | undefined;
    const blocked = queue.append(0, bytes(40)).then((offset) => (third = offset));
    let fourth: number | undefined;
    // A smaller message that would fit still waits its turn: offsets follow call order.
    const behind = queue.append(0, bytes(10)).then((offset) => (fourth = offset));
    await tick();
    await tick();
    expect(third).toBeUndefined();
    expect(fourth).toBeUndefined();
    expect(log.pendingBytes(0)).toBe(80);
    // Appends still waiting for room are not in the log yet.
    expect(log.pendingMessages(0)).toBe(2);
    // Another partition has its own room.
    expect(await queue.append(1, bytes(100))).toBe(0);

    await queue.run({ eachBatch: async () => undefined });
    await queue.commit(0, 0);
    await Promise.all([blocked, behind]);
    expect([third, fourth]).toEqual([2, 3]);
    expect(log.pendingBytes(0)).toBe(90);
    expect(log.pendingMessages(0)).toBe(3);
  });

  it('holds at most maxPendingBytes per partition however fast producers go', async () => {
    const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 1000 });
    const queue = queueOver(log, 5);
    let most = 0;
    await queue.run({
      eachBatch: async (batch) => {
        most = Math.max(most, log.pendingBytes(0));
        await tick();
        await queue.commit(0, batch.messages[batch.messages.length - 1].offset);
      },
    });
    // Producers far ahead of the consumer: 200 appends of 64 bytes issued at once.
    const appends = Array.from({ length: 200 }, () =>
      queue.append(0, bytes(64)).then((offset) => {
        most = Math.max(most, log.pendingBytes(0));
        return offset;
      }),
    );
    expect(log.pendingBytes(0)).toBeLessThanOrEqual(1000);
    expect(await Promise.all(appends)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    await until(() => log.committed(0) === 199, 'everything was committed');
    expect(most).toBeLessThanOrEqual(1000);
    expect(log.pendingBytes(0)).toBe(0);
  });

  it('refuses what it could never hold or never held, naming the partition', async () => {
    const log = new InMemoryPointLog({ partitions: 2, maxPendingBytes: 10 });
    const queue = queueOver(log);
    await expect(queue.append(0, bytes(11))).rejects.toThrow(/11 bytes can never fit partition 0/);
    await expect(queue.append(2, bytes(1))).rejects.toThrow(/partition 2 does not exist/);
    await expect(queue.commit(0, 0)).rejects.toMatchObject({ code: PointQueueExceptionCode.NOT_RUNNING });
    await queue.run({ eachBatch: async () => undefined });
    await expect(queue.commit(1, 0)).rejects.toMatchObject({
      code: PointQueueExceptionCode.OFFSET_OUT_OF_RANGE,
      message: expect.stringMatching(/partition 1 offset 0/),
    });
    await expect(queue.run({ eachBatch: async () => undefined })).rejects.toBeInstanceOf(PointQueueException);
  });

  it('fences a consumer once a newer one took over the log', async () => {
    const log = new InMemoryPointLog({ partitions: 1, maxPendingBytes: 100 });
    const old = queueOver(log);
    await old.append(0, bytes(1));
    await old.run({ eachBatch: async () => undefined });
    const current = queueOver(log);
    await current.run({ eachBatch: async () => undefined });
    await expect(old.commit(0, 0)).rejects.toMatchObject({ code: PointQueueExceptionCode.FENCED });
    await expect(current.commit(0, 0)).resolves.toBeUndefined();
    // The fenced consumer's loops ended: stopping it does not wait for anything.
    await old.stop();
  });
});
