import { type ChdbExtension } from 'chdb/connection';
import { ChdbBatchWriter } from './chdb-batch.writer';
import { parseDedupToken } from './dedup-token';

describe('ChdbBatchWriter.writeRowBinary', () => {
  // Nothing reaches the engine when a column is refused: a stand-in that fails if called.
  const engine = {
    queryAsync: () => Promise.reject(new Error('the engine was called')),
  } as unknown as ChdbExtension;

  it.each([
    [{ name: 'ts) SELECT 1 --', type: 'UInt8' }],
    [{ name: 'ts', type: "String') FORMAT CSV --" }],
    [{ name: 'ts', type: 'UInt8; DROP TABLE points' }],
  ])('refuses a column that would not be spliced safely: %j', async (column) => {
    const writer = new ChdbBatchWriter([engine]);
    await expect(
      writer.writeRowBinary('points', [column], parseDedupToken('t'), Buffer.alloc(1)),
    ).rejects.toThrow(/unexpected column/);
    writer.close();
  });
});

describe('ChdbBatchWriter sessions', () => {
  /** A session whose inserts stay pending until released, recording the tables it was given. */
  function session() {
    const tables: string[] = [];
    const pending: Array<() => void> = [];
    const engine = {
      rawInsert: ({ table }: { table: string }) => {
        tables.push(table);
        return new Promise<void>((resolve) => pending.push(resolve));
      },
    } as unknown as ChdbExtension;
    return { engine, tables, release: () => pending.splice(0).forEach((resolve) => resolve()) };
  }

  it('gives each write to the session with the fewest in flight: a write waits only when every session is busy', async () => {
    const [a, b] = [session(), session()];
    const writer = new ChdbBatchWriter([a.engine, b.engine]);
    const write = (table: string) => writer.write(table, ['x'], parseDedupToken(table), Buffer.from('[1]\n'));
    const points = write('points');
    const usage = write('usage_hourly');
    expect([a.tables, b.tables]).toEqual([['points'], ['usage_hourly']]);
    b.release();
    await usage;
    // The first session still writes the points: the next write goes to the idle one.
    const anomalies = write('anomalies');
    expect([a.tables, b.tables]).toEqual([['points'], ['usage_hourly', 'anomalies']]);
    a.release();
    b.release();
    await Promise.all([points, anomalies]);
    writer.close();
  });

  it('refuses to be made without a session', () => {
    expect(() => new ChdbBatchWriter([])).toThrow(/needs a session/);
  });
});
