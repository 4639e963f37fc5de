import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClickHouseConnection, Migrator } from '@seismo/storage';
import { TenantDirectory, type TenantDirectoryOptions } from '../src/tenant.directory';

/**
 * A real embedded ClickHouse in a fresh temporary directory, migrated (libs/storage's
 * harness, trimmed). chdb binds one data directory per process, so each test file
 * stops its engine in afterAll before the next file in the same worker opens another.
 */
export class TestClickHouse {
  private constructor(
    readonly connection: ClickHouseConnection,
    private readonly dir: string,
  ) {}

  static async start(): Promise<TestClickHouse> {
    const dir = mkdtempSync(join(tmpdir(), 'seismo-tenancy-'));
    const connection = await ClickHouseConnection.open({ dataDir: join(dir, 'clickhouse') });
    await new Migrator(connection.client).migrate();
    return new TestClickHouse(connection, dir);
  }

  /** Runs a statement that is not the code under test (a raw row, a repeated migration). */
  async command(query: string, params: Record<string, unknown> = {}): Promise<void> {
    await this.connection.client.command({ query, query_params: params });
  }

  async rows<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    const result = await this.connection.client.query({ query, query_params: params, format: 'JSONEachRow' });
    return result.json<T>();
  }

  async stop(): Promise<void> {
    await this.connection.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A test file's ClickHouse (started before its tests, stopped after) and directories over
 * it, each closed after its test. Directories reload only when told unless a test asks
 * for a period.
 */
export function useTenancyStorage(): {
  clickhouse(): TestClickHouse;
  directory(options?: TenantDirectoryOptions): Promise<TenantDirectory>;
} {
  let clickhouse: TestClickHouse | undefined;
  const open: TenantDirectory[] = [];
  beforeAll(async () => {
    clickhouse = await TestClickHouse.start();
  });
  afterEach(async () => {
    for (const directory of open.splice(0)) await directory.close();
  });
  afterAll(async () => {
    await clickhouse?.stop();
  });
  return {
    clickhouse: () => clickhouse!,
    directory: async (options = {}) => {
      const opened = await TenantDirectory.open(clickhouse!.connection, { reloadMs: 3_600_000, ...options });
      open.push(opened);
      return opened;
    },
  };
}
