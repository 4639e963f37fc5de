import { type ClickHouseClient } from '@clickhouse/client';

/** One row of schema_migrations: a numbered file that has been applied. */
export interface AppliedMigration {
  readonly version: number;
  /** The file name, `0001_points.sql`. */
  readonly name: string;
  /** sha256 of the file (line endings normalised), to notice a file edited after it ran. */
  readonly checksum: string;
}

/**
 * The ledger of applied migrations. It is created here rather than by a numbered file
 * because the migrator reads it before any file runs.
 *
 * ReplacingMergeTree keyed by version: two processes starting at once against one
 * server may both apply and record a migration (statements are written to run twice
 * safely); the second record then collapses into the first.
 */
export class SchemaMigrationRepository {
  constructor(private readonly client: ClickHouseClient) {}

  async ensureTable(): Promise<void> {
    await this.client.command({
      query: `CREATE TABLE IF NOT EXISTS schema_migrations
        (
          version    UInt32,
          name       String,
          checksum   String,
          applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
        )
        ENGINE = ReplacingMergeTree(applied_at)
        ORDER BY version`,
    });
  }

  async applied(): Promise<AppliedMigration[]> {
    const result = await this.client.query({
      query: 'SELECT version, name, checksum FROM schema_migrations FINAL ORDER BY version',
      format: 'JSONEachRow',
    });
    const rows = await result.json<{ version: number; name: string; checksum: string }>();
    return rows.map((row) => ({ version: Number(row.version), name: row.name, checksum: row.checksum }));
  }

  async record(migration: AppliedMigration): Promise<void> {
    await this.client.insert({
      table: 'schema_migrations',
      columns: ['version', 'name', 'checksum'],
      values: [{ version: migration.version, name: migration.name, checksum: migration.checksum }],
      format: 'JSONEachRow',
    });
  }
}
