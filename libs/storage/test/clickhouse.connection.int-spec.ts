import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClickHouseConnection } from '../src/clickhouse.connection';
import { StorageException, StorageExceptionCode } from '../src/storage.exception';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'seismo-connection-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function openFailure(
  options: Parameters<typeof ClickHouseConnection.open>[0],
): Promise<StorageException> {
  const error = await ClickHouseConnection.open(options).then(
    async (connection) => {
      await connection.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageException);
  expect((error as StorageException).code).toBe(StorageExceptionCode.CONNECTION_FAILED);
  return error as StorageException;
}

describe('ClickHouseConnection', () => {
  it('opens the embedded engine in a data directory it creates', async () => {
    const dataDir = join(dir, 'nested', 'clickhouse');
    const connection = await ClickHouseConnection.open({ dataDir });
    try {
      expect(connection.mode).toBe('embedded');
      expect(connection.target).toBe(dataDir);
      expect(existsSync(dataDir)).toBe(true);
      const result = await connection.client.query({
        query: 'SELECT {n:UInt8} + 1 AS n',
        query_params: { n: 41 },
        format: 'JSONEachRow',
      });
      expect(await result.json()).toEqual([{ n: 42 }]);
    } finally {
      await connection.close();
    }
  });

  it('keeps what was written across a close and a reopen', async () => {
    const dataDir = join(dir, 'clickhouse');
    const first = await ClickHouseConnection.open({ dataDir });
    await first.client.command({ query: 'CREATE TABLE kept (x UInt8) ENGINE = MergeTree ORDER BY x' });
    await first.client.command({ query: 'INSERT INTO kept VALUES (7)' });
    await first.close();

    const second = await ClickHouseConnection.open({ dataDir });
    try {
      const result = await second.client.query({ query: 'SELECT x FROM kept', format: 'JSONEachRow' });
      expect(await result.json()).toEqual([{ x: 7 }]);
    } finally {
      await second.close();
    }
  });

  it('refuses a second data directory while one is open, naming it, and allows it once closed', async () => {
    const first = await ClickHouseConnection.open({ dataDir: join(dir, 'one') });
    const error = await openFailure({ dataDir: join(dir, 'two') }).finally(() => first.close());
    expect(error.message).toContain(join(dir, 'two'));

    const second = await ClickHouseConnection.open({ dataDir: join(dir, 'two') });
    await second.close();
  });

  it('names an unreachable server by its URL, without its password', async () => {
    // Port 1 on loopback: refused at once, nothing leaves the machine.
    const error = await openFailure({ url: 'http://seismo:s3cret@127.0.0.1:1/db', dataDir: dir });
    expect(error.message).toContain('127.0.0.1:1');
    expect(error.message).not.toContain('s3cret');
  });

  it('refuses a malformed URL', async () => {
    const error = await openFailure({ url: 'not a url', dataDir: dir });
    expect(error.message).toContain('invalid ClickHouse URL');
  });
});
