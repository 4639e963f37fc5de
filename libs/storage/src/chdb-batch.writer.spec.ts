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
