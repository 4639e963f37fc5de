import {
  type DedupToken,
  emptyUsage,
  HOUR_MS,
  parseTenantId,
  type PartitionMark,
  type UsageRecord,
} from '@seismo/storage';
import { UsageCommitter, type UsageStore } from './usage.committer';

const acme = parseTenantId('acme');
const globex = parseTenantId('globex');

function usage(tenant = acme, points = 1, hour = 0, hashes: bigint[] = []): UsageRecord {
  return { ...emptyUsage(tenant, hour), pointsIngested: points, pointsScored: points, seriesHashes: hashes };
}

interface Insert {
  readonly rows: readonly UsageRecord[];
  readonly token: DedupToken;
  readonly marks: readonly PartitionMark[];
}

/** Records every INSERT; fails the first `failures`. */
class StoreFake implements UsageStore {
  readonly inserts: Insert[] = [];
  attempts = 0;
  constructor(private failures = 0) {}

  async insertBatch(rows: readonly UsageRecord[], token: DedupToken, marks: readonly PartitionMark[] = []) {
    this.attempts++;
    if (this.failures-- > 0) throw new Error('ClickHouse is down');
    this.inserts.push({ rows, token, marks });
  }

  /** Each partition's mark, as other engines' INSERTs leave it. */
  readonly through = new Map<number, number>();

  async writtenThrough(_source: string, partition: number): Promise<number> {
    return this.through.get(partition) ?? -1;
  }
}

const quiet = { error: jest.fn() };
beforeEach(() => jest.clearAllMocks());

describe('UsageCommitter', () => {
  it('writes the usage of the batches added within the linger in one INSERT, marking each partition', async () => {
    const store = new StoreFake();
    const committer = new UsageCommitter(store, 'seismo.points', { lingerMs: 20, logger: quiet });
    await Promise.all([
      committer.add(0, 4, [usage(acme, 3, 0, [1n])]),
      committer.add(1, 9, [usage(acme, 5, 0, [1n, 2n]), usage(globex, 2)]),
      committer.add(0, 7, [usage(acme, 1, HOUR_MS)]),
    ]);
    expect(store.inserts).toHaveLength(1);
    const [insert] = store.inserts;
    expect(insert.marks).toEqual([
      { source: 'seismo.points', partition: 0, offset: 7 },
      { source: 'seismo.points', partition: 1, offset: 9 },
    ]);
    expect(insert.rows.map((r) => [r.tenantId, r.hour, r.pointsIngested, r.seriesHashes])).toEqual([
      [acme, 0, 8, [1n, 2n]],
      [globex, 0, 2, []],
      [acme, HOUR_MS, 1, []],
    ]);
    expect(insert.token).toMatch(/^seismo\.points\/usage\/[0-9a-f]{32}$/);
  });

  it('adds nothing for a batch without usage', async () => {
    const store = new StoreFake();
    const committer = new UsageCommitter(store, 'seismo.points', { lingerMs: 20, logger: quiet });
    await committer.add(0, 4, []);
    expect(store.attempts).toBe(0);
  });

  it('writes at once on flush, and what is added meanwhile in the next INSERT, after it', async () => {
    const store = new StoreFake();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const insert = store.insertBatch.bind(store);
    store.insertBatch = async (...args) => {
      if (store.attempts === 0) await held;
      return insert(...args);
    };
    const committer = new UsageCommitter(store, 'log', { lingerMs: 60_000, logger: quiet });
    const first = committer.add(0, 1, [usage()]);
    committer.flush();
    const later = [committer.add(0, 2, [usage()]), committer.add(1, 5, [usage()])];
    committer.flush();
    release();
    await Promise.all([first, ...later]);
    expect(store.inserts.map(({ marks }) => marks.map((mark) => [mark.partition, mark.offset]))).toEqual([
      [[0, 1]],
      [
        [0, 2],
        [1, 5],
      ],
    ]);
  });

  it('tries a failed INSERT again with the same rows and token, holding the next behind it', async () => {
    const store = new StoreFake(2);
    const committer = new UsageCommitter(store, 'log', { lingerMs: 0, retryDelayMs: 1, logger: quiet });
    const tokens: DedupToken[] = [];
    const insert = store.insertBatch.bind(store);
    store.insertBatch = (rows, token, marks) => {
      tokens.push(token);
      return insert(rows, token, marks);
    };
    await Promise.all([committer.add(0, 1, [usage(acme, 2)]), committer.add(0, 2, [usage(acme, 3)])]);
    expect(tokens).toEqual([tokens[0], tokens[0], tokens[0], tokens[3]]);
    expect(tokens[3]).not.toBe(tokens[0]);
    expect(store.inserts.map(({ marks }) => marks[0].offset)).toEqual([1, 2]);
    expect(quiet.error).toHaveBeenCalledWith(
      'writing the usage of 1 batches failed (attempt 2), retrying in 2 ms: ClickHouse is down',
    );
  });

  it('once stopped, writes what waits at once and gives up an INSERT that fails', async () => {
    const store = new StoreFake(1);
    const committer = new UsageCommitter(store, 'log', { lingerMs: 60_000, logger: quiet });
    const waiting = committer.add(0, 1, [usage()]);
    committer.stop();
    await expect(waiting).rejects.toThrow(/the usage of 1 batches abandoned: the engine stopped/);
    // Were partition 0's next batch stored, its mark would cover the batch given up.
    await expect(committer.add(0, 2, [usage()])).rejects.toThrow(/abandoned/);
    await expect(committer.add(1, 2, [usage()])).resolves.toBe(true);
    expect(store.inserts.map(({ marks }) => marks.map((m) => m.partition))).toEqual([[1]]);
    // Taken again, the partition's mark is read afresh and its usage taken.
    expect(await committer.writtenThrough(0)).toBe(-1);
    await expect(committer.add(0, 2, [usage()])).resolves.toBe(true);
  });

  it('stores a batch once: one added again after its INSERT resolves at once as counted', async () => {
    const store = new StoreFake();
    const committer = new UsageCommitter(store, 'log', { lingerMs: 0, logger: quiet });
    await expect(committer.add(0, 4, [usage()])).resolves.toBe(true);
    await expect(committer.add(0, 4, [usage()])).resolves.toBe(false);
    await expect(committer.add(0, 2, [usage()])).resolves.toBe(false);
    expect(store.inserts).toHaveLength(1);
  });

  it("refuses a forgotten partition's usage until it is taken again", async () => {
    const store = new StoreFake();
    const committer = new UsageCommitter(store, 'log', { lingerMs: 0, logger: quiet });
    committer.forget(3);
    await expect(committer.add(3, 1, [usage()])).rejects.toThrow('partition 3 went to another engine');
    store.through.set(3, 1);
    expect(await committer.writtenThrough(3)).toBe(1);
    await expect(committer.add(3, 1, [usage()])).resolves.toBe(false);
    await expect(committer.add(3, 2, [usage()])).resolves.toBe(true);
  });

  it("drops an erased tenant's waiting counts", async () => {
    const store = new StoreFake();
    const committer = new UsageCommitter(store, 'log', { lingerMs: 20, logger: quiet });
    const added = committer.add(0, 1, [usage(acme, 2), usage(globex, 3)]);
    committer.forgetTenant(globex);
    await added;
    expect(store.inserts[0].rows.map((row) => row.tenantId)).toEqual([acme]);
  });

  it("reads a taken partition's mark again before its first INSERT, leaving out what was counted meanwhile", async () => {
    const store = new StoreFake();
    store.through.set(0, 3);
    const committer = new UsageCommitter(store, 'log', { lingerMs: 20, logger: quiet });
    expect(await committer.writtenThrough(0)).toBe(3);
    // The old owner's INSERT, in flight during the hand-over, lands now: through 5.
    store.through.set(0, 5);
    const results = await Promise.all([
      committer.add(0, 5, [usage(acme, 2)]),
      committer.add(0, 7, [usage(acme, 3)]),
      committer.add(1, 2, [usage(acme, 4)]),
    ]);
    expect(results).toEqual([false, true, true]);
    expect(
      store.inserts.map(({ rows, marks }) => [rows[0].pointsIngested, marks.map((m) => m.offset)]),
    ).toEqual([[7, [7, 2]]]);
    // Read once per taking: the next INSERT does not ask again.
    const read = jest.spyOn(store, 'writtenThrough');
    await committer.add(0, 9, [usage()]);
    expect(read).not.toHaveBeenCalled();
  });

  it('drops the usage of a partition that went to another engine before its INSERT began', async () => {
    const store = new StoreFake();
    const committer = new UsageCommitter(store, 'log', { lingerMs: 20, logger: quiet });
    const lost = committer.add(0, 4, [usage()]);
    const kept = committer.add(1, 4, [usage(globex, 6)]);
    committer.forget(0);
    await expect(lost).rejects.toThrow('partition 0 went to another engine before its usage was written');
    await expect(kept).resolves.toBe(true);
    expect(store.inserts.map(({ rows, marks }) => [rows, marks.map((m) => m.partition)])).toEqual([
      [[expect.objectContaining({ tenantId: globex, pointsIngested: 6 })], [1]],
    ]);
  });

  it('refuses a negative linger or retry delays out of order', () => {
    const store = new StoreFake();
    expect(() => new UsageCommitter(store, 'log', { lingerMs: -1 })).toThrow(/lingerMs/);
    expect(() => new UsageCommitter(store, 'log', { retryDelayMs: 10, maxRetryDelayMs: 5 })).toThrow(
      /retry delays/,
    );
  });
});
