import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultMigrationsDir, Migrator } from '../src/migrator';
import { StorageException, StorageExceptionCode } from '../src/storage.exception';
import { TestStorage } from './storage.harness';

// Each test gets its own engine: the migrator's ledger is per database, and one engine
// is one data directory at a time.
let storage: TestStorage;
beforeEach(async () => {
  storage = await TestStorage.start({ migrate: false });
});
afterEach(async () => {
  await storage.stop();
});

function migrationsDir(files: Record<string, string>): string {
  const dir = storage.scratch(`migrations-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}

async function failure(migrator: Migrator): Promise<StorageException> {
  const error = await migrator.migrate().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageException);
  expect((error as StorageException).code).toBe(StorageExceptionCode.MIGRATION_FAILED);
  return error as StorageException;
}

async function tables(): Promise<string[]> {
  const rows = await storage.rows<{ name: string }>(
    'SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name',
  );
  return rows.map((r) => r.name);
}

const PROJECT_MIGRATIONS = [
  '0001_points.sql',
  '0002_anomalies.sql',
  '0003_tenants.sql',
  '0004_checkpoints.sql',
  '0005_members_keys_audit.sql',
  '0006_limits_retention_hourly.sql',
];

describe('the project migrations', () => {
  it('create points and anomalies once, and a second run changes nothing', async () => {
    const first = await new Migrator(storage.client).migrate();
    expect(first).toEqual({
      applied: PROJECT_MIGRATIONS,
      alreadyApplied: [],
    });
    expect(await tables()).toEqual([
      'anomalies',
      'api_key_usage',
      'api_keys',
      'audit_log',
      'checkpoints',
      'members',
      'points',
      'schema_migrations',
      'series_hourly',
      'tenants',
    ]);

    const second = await new Migrator(storage.client).migrate();
    expect(second).toEqual({
      applied: [],
      alreadyApplied: PROJECT_MIGRATIONS,
    });
    expect(await storage.count('schema_migrations FINAL')).toBe(PROJECT_MIGRATIONS.length);
  });

  it('define tenant-first sorting keys and a TTL read from each row', async () => {
    await new Migrator(storage.client).migrate();
    const rows = await storage.rows<{
      name: string;
      engine: string;
      sorting_key: string;
      create_table_query: string;
    }>(
      "SELECT name, engine, sorting_key, create_table_query FROM system.tables WHERE name IN ('points', 'anomalies') ORDER BY name",
    );
    expect(rows.map((r) => [r.name, r.engine, r.sorting_key])).toEqual([
      ['anomalies', 'ReplacingMergeTree', 'tenant_id, series, ts, id'],
      ['points', 'MergeTree', 'tenant_id, series, ts'],
    ]);
    for (const row of rows) {
      expect(row.create_table_query).toContain('TTL ts + toIntervalDay(retention_days)');
      expect(row.create_table_query).toContain('non_replicated_deduplication_window = 10000');
    }
  });

  it('are found from the source tree', () => {
    expect(defaultMigrationsDir()).toMatch(/deploy[/\\]clickhouse[/\\]migrations$/);
  });
});

describe('Migrator', () => {
  it('applies files in version order, each statement of a file in turn', async () => {
    const dir = migrationsDir({
      '0002_second.sql': 'CREATE TABLE IF NOT EXISTS b (x UInt8) ENGINE = MergeTree ORDER BY x;',
      '0001_first.sql': `-- two statements; the ';' in the string and the comment do not split them
        CREATE TABLE IF NOT EXISTS a (x String DEFAULT ';') ENGINE = MergeTree ORDER BY x; /* ; */
        INSERT INTO a (x) VALUES ('a;b');`,
      'README.md': 'not a migration',
    });
    const report = await new Migrator(storage.client, dir).migrate();
    expect(report.applied).toEqual(['0001_first.sql', '0002_second.sql']);
    expect(await storage.rows('SELECT x FROM a')).toEqual([{ x: 'a;b' }]);
    expect(await tables()).toEqual(['a', 'b', 'schema_migrations']);
  });

  it('stops at a failing migration, naming its file, and resumes there once it is fixed', async () => {
    const dir = migrationsDir({
      '0001_ok.sql': 'CREATE TABLE IF NOT EXISTS ok (x UInt8) ENGINE = MergeTree ORDER BY x;',
      '0002_broken.sql':
        'CREATE TABLE IF NOT EXISTS broken (x UInt8) ENGINE = MergeTree ORDER BY x;\nCREATE TABLEE nope;',
      '0003_later.sql': 'CREATE TABLE IF NOT EXISTS later (x UInt8) ENGINE = MergeTree ORDER BY x;',
    });
    const error = await failure(new Migrator(storage.client, dir));
    expect(error.message).toContain('0002_broken.sql');
    expect(error.message).toContain('statement 2 of 2');
    expect(await tables()).toEqual(['broken', 'ok', 'schema_migrations']);
    expect(
      (await storage.rows<{ name: string }>('SELECT name FROM schema_migrations FINAL')).map((r) => r.name),
    ).toEqual(['0001_ok.sql']);

    // The half-applied file runs again whole, which its IF NOT EXISTS makes harmless.
    writeFileSync(
      join(dir, '0002_broken.sql'),
      'CREATE TABLE IF NOT EXISTS broken (x UInt8) ENGINE = MergeTree ORDER BY x;\nCREATE TABLE IF NOT EXISTS fixed (x UInt8) ENGINE = MergeTree ORDER BY x;',
    );
    const report = await new Migrator(storage.client, dir).migrate();
    expect(report).toEqual({
      applied: ['0002_broken.sql', '0003_later.sql'],
      alreadyApplied: ['0001_ok.sql'],
    });
    expect(await tables()).toEqual(['broken', 'fixed', 'later', 'ok', 'schema_migrations']);
  });

  it('refuses an applied migration that was edited since', async () => {
    const dir = migrationsDir({
      '0001_t.sql': 'CREATE TABLE IF NOT EXISTS t (x UInt8) ENGINE = MergeTree ORDER BY x;',
    });
    await new Migrator(storage.client, dir).migrate();
    writeFileSync(
      join(dir, '0001_t.sql'),
      'CREATE TABLE IF NOT EXISTS t (x UInt16) ENGINE = MergeTree ORDER BY x;',
    );
    const error = await failure(new Migrator(storage.client, dir));
    expect(error.message).toContain('0001_t.sql');
    expect(error.message).toContain('never changes');
  });

  it('refuses a database that applied a file this build no longer has, but not one from a newer build', async () => {
    const full = migrationsDir({
      '0001_a.sql': 'CREATE TABLE IF NOT EXISTS a (x UInt8) ENGINE = MergeTree ORDER BY x;',
      '0002_b.sql': 'CREATE TABLE IF NOT EXISTS b (x UInt8) ENGINE = MergeTree ORDER BY x;',
      '0003_c.sql': 'CREATE TABLE IF NOT EXISTS c (x UInt8) ENGINE = MergeTree ORDER BY x;',
    });
    await new Migrator(storage.client, full).migrate();

    const older = migrationsDir({
      '0001_a.sql': 'CREATE TABLE IF NOT EXISTS a (x UInt8) ENGINE = MergeTree ORDER BY x;',
      '0002_b.sql': 'CREATE TABLE IF NOT EXISTS b (x UInt8) ENGINE = MergeTree ORDER BY x;',
    });
    expect(await new Migrator(storage.client, older).migrate()).toEqual({
      applied: [],
      alreadyApplied: ['0001_a.sql', '0002_b.sql'],
    });

    const gap = migrationsDir({
      '0001_a.sql': 'CREATE TABLE IF NOT EXISTS a (x UInt8) ENGINE = MergeTree ORDER BY x;',
      '0003_c.sql': 'CREATE TABLE IF NOT EXISTS c (x UInt8) ENGINE = MergeTree ORDER BY x;',
    });
    const error = await failure(new Migrator(storage.client, gap));
    expect(error.message).toContain('0002_b.sql');
  });

  it.each([
    [{ '1_short.sql': 'SELECT 1;' }, '1_short.sql'],
    [{ '0001_CamelCase.sql': 'SELECT 1;' }, '0001_CamelCase.sql'],
    [{ '0001_a.sql': 'SELECT 1;', '0001_b.sql': 'SELECT 1;' }, 'share version 0001'],
    [{ '0001_empty.sql': '-- nothing here\n' }, '0001_empty.sql holds no statement'],
  ])('refuses a malformed migrations directory (%j)', async (files, expected) => {
    const error = await failure(new Migrator(storage.client, migrationsDir(files)));
    expect(error.message).toContain(expected);
  });

  it('names a migrations directory that does not exist', async () => {
    const missing = storage.scratch('no-such-dir');
    const error = await failure(new Migrator(storage.client, missing));
    expect(error.message).toContain(missing);
  });
});
