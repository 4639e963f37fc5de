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
    const writer = new ChdbBatchWriter({ binary: engine, rows: engine });
    await expect(
      writer.writeRowBinary('points', [column], parseDedupToken('t'), Buffer.alloc(1)),
    ).rejects.toThrow(/unexpected column/);
    writer.close();
  });
});

describe('ChdbBatchWriter sessions', () => {
  it('writes RowBinary batches (the points) on one session and JSON rows on the other', async () => {
    const calls: string[] = [];
    const session = (name: string) =>
      ({
        queryAsync: (sql: string) => {
          calls.push(`${name}: ${/INSERT INTO (\w+)/.exec(sql)?.[1]}`);
          return Promise.resolve();
        },
        rawInsert: ({ table }: { table: string }) => {
          calls.push(`${name}: ${table}`);
          return Promise.resolve();
        },
      }) as unknown as ChdbExtension;
    const writer = new ChdbBatchWriter({ binary: session('binary'), rows: session('rows') });
    await writer.writeRowBinary(
      'points',
      [{ name: 'x', type: 'UInt8' }],
      parseDedupToken('p'),
      Buffer.alloc(1),
    );
    await writer.write('usage_hourly', ['x'], parseDedupToken('u'), Buffer.from('[1]\n'));
    await writer.write('anomalies', ['x'], parseDedupToken('a'), Buffer.from('[1]\n'));
    expect(calls).toEqual(['binary: points', 'rows: usage_hourly', 'rows: anomalies']);
    writer.close();
  });
});
