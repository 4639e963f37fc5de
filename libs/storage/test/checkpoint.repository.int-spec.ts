import { CheckpointRepository } from '../src/checkpoint.repository';
import { freshTenant, TestStorage } from './storage.harness';

describe('CheckpointRepository (embedded ClickHouse)', () => {
  let storage: TestStorage;
  let repository: CheckpointRepository;

  beforeAll(async () => {
    storage = await TestStorage.start();
    repository = new CheckpointRepository(storage.connection);
  });
  afterAll(() => storage.stop());

  const bytes = (...values: number[]) => new Uint8Array(values);

  it('reads back each series at its newest round, and the newest marker', async () => {
    const tenant = freshTenant();
    await repository.write('t1', 0, 10, [
      { tenantId: tenant, series: 'cpu', state: bytes(1) },
      { tenantId: tenant, series: 'mem', state: bytes(2) },
    ]);
    await repository.write('t1', 0, 20, [{ tenantId: tenant, series: 'cpu', state: bytes(3, 4) }]);

    const read = await repository.read('t1', 0, 100);
    expect(read.offset).toBe(20);
    expect(sorted(read.series)).toEqual([
      { tenantId: tenant, series: 'cpu', offset: 20, state: bytes(3, 4) },
      { tenantId: tenant, series: 'mem', offset: 10, state: bytes(2) },
    ]);
  });

  it('ignores rounds beyond the offset asked for, also after merges', async () => {
    const tenant = freshTenant();
    await repository.write('t2', 1, 10, [{ tenantId: tenant, series: 'cpu', state: bytes(1) }]);
    await repository.write('t2', 1, 30, [{ tenantId: tenant, series: 'cpu', state: bytes(9) }]);
    await storage.client.command({ query: 'OPTIMIZE TABLE checkpoints FINAL' });
    // Merged, only the newest row is left: asking for less finds no row of cpu rather than a wrong one.
    const read = await repository.read('t2', 1, 29);
    expect(read.series).toEqual([]);
    expect(read.offset).toBe(-1);
    expect((await repository.read('t2', 1, 30)).series[0].state).toEqual(bytes(9));
  });

  it('keeps partitions and sources apart', async () => {
    const tenant = freshTenant();
    await repository.write('t3', 0, 5, [{ tenantId: tenant, series: 'a', state: bytes(1) }]);
    await repository.write('t3', 2, 7, [{ tenantId: tenant, series: 'b', state: bytes(2) }]);
    await repository.write('other', 0, 9, [{ tenantId: tenant, series: 'c', state: bytes(3) }]);
    expect((await repository.read('t3', 0, 100)).series.map((s) => s.series)).toEqual(['a']);
    expect((await repository.read('t3', 2, 100)).series.map((s) => s.series)).toEqual(['b']);
    expect(await repository.lastOffset('t3', 2)).toBe(7);
    expect(await repository.lastOffset('t3', 1)).toBe(-1);
  });

  it('writes a marker even when no series changed, and many rows in several inserts', async () => {
    const tenant = freshTenant();
    await repository.write('t4', 0, 3, []);
    expect(await repository.read('t4', 0, 3)).toEqual({ offset: 3, series: [] });
    const many = Array.from({ length: 4500 }, (_, i) => ({
      tenantId: tenant,
      series: `s${i}`,
      state: bytes(i % 256),
    }));
    await repository.write('t4', 0, 4, many);
    const read = await repository.read('t4', 0, 4);
    expect(read.offset).toBe(4);
    expect(read.series).toHaveLength(4500);
  });

  it('refuses a bad row, naming the field', async () => {
    await expect(
      repository.write('t5', 0, 1, [{ tenantId: freshTenant(), series: '', state: bytes(1) }]),
    ).rejects.toThrow('checkpoints[0].series');
  });
});

function sorted<T extends { series: string }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => a.series.localeCompare(b.series));
}
