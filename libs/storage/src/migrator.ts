import { type ClickHouseClient } from '@clickhouse/client';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type AppliedMigration, SchemaMigrationRepository } from './schema-migration.repository';
import { splitSqlStatements } from './sql-script';
import { describeCause, StorageException, StorageExceptionCode } from './storage.exception';

export interface MigrationReport {
  /** Files applied by this run, in order. */
  readonly applied: readonly string[];
  /** Files found already applied. */
  readonly alreadyApplied: readonly string[];
}

interface MigrationFile extends AppliedMigration {
  readonly sql: string;
}

const MIGRATION_FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;

/**
 * Applies the numbered files of deploy/clickhouse/migrations (`0001_points.sql`, ...) in
 * order, each once, recording each in schema_migrations after it succeeded. Run at every
 * start: a second run finds everything applied and changes nothing.
 *
 * ClickHouse DDL is not transactional, so a file that fails halfway stays half applied
 * and is retried whole at the next start: every statement must be safe to run twice
 * (`IF NOT EXISTS`, `ADD COLUMN IF NOT EXISTS`). Records of versions above the newest
 * file are ignored: a newer build migrated this database, and this one can still run.
 */
export class Migrator {
  private readonly ledger: SchemaMigrationRepository;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly dir: string = defaultMigrationsDir(),
  ) {
    this.ledger = new SchemaMigrationRepository(client);
  }

  async migrate(): Promise<MigrationReport> {
    const files = this.readFiles();
    await this.ledger.ensureTable();
    const recorded = new Map((await this.ledger.applied()).map((m) => [m.version, m]));
    this.checkRecordedFiles(files, recorded);

    const applied: string[] = [];
    const alreadyApplied: string[] = [];
    for (const file of files) {
      if (recorded.has(file.version)) {
        alreadyApplied.push(file.name);
        continue;
      }
      await this.apply(file);
      applied.push(file.name);
    }
    return { applied, alreadyApplied };
  }

  private readFiles(): MigrationFile[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((name) => name.endsWith('.sql'));
    } catch (cause) {
      throw fail(`cannot read the migrations directory ${this.dir}: ${describeCause(cause)}`, cause);
    }
    const byVersion = new Map<number, MigrationFile>();
    for (const name of names) {
      const match = MIGRATION_FILE.exec(name);
      if (!match) {
        throw fail(`migration file ${name} in ${this.dir} is not named NNNN_lowercase_words.sql`);
      }
      const version = Number(match[1]);
      const other = byVersion.get(version);
      if (other) throw fail(`migration files ${other.name} and ${name} share version ${match[1]}`);
      const sql = readFileSync(join(this.dir, name), 'utf8').replace(/\r\n/g, '\n');
      const checksum = createHash('sha256').update(sql).digest('hex');
      byVersion.set(version, { version, name, sql, checksum });
    }
    return [...byVersion.values()].sort((a, b) => a.version - b.version);
  }

  private checkRecordedFiles(files: MigrationFile[], recorded: Map<number, AppliedMigration>): void {
    const newest = files.length > 0 ? files[files.length - 1].version : 0;
    const local = new Map(files.map((f) => [f.version, f]));
    for (const record of recorded.values()) {
      const file = local.get(record.version);
      if (!file) {
        if (record.version > newest) continue;
        throw fail(
          `${record.name} is recorded as applied but is not in ${this.dir}: was it deleted or renamed?`,
        );
      }
      if (file.name !== record.name || file.checksum !== record.checksum) {
        throw fail(
          `${file.name} differs from ${record.name} as applied (sha256 ${record.checksum.slice(0, 12)}, now ` +
            `${file.checksum.slice(0, 12)}): an applied migration never changes; add a new numbered file instead`,
        );
      }
    }
  }

  private async apply(file: MigrationFile): Promise<void> {
    const statements = splitSqlStatements(file.sql);
    if (statements.length === 0) throw fail(`migration ${file.name} holds no statement`);
    for (const [i, query] of statements.entries()) {
      try {
        await this.client.command({ query });
      } catch (cause) {
        throw fail(
          `migration ${file.name} failed at statement ${i + 1} of ${statements.length}: ${describeCause(cause)}`,
          cause,
        );
      }
    }
    await this.ledger.record(file);
  }
}

function fail(message: string, cause?: unknown): StorageException {
  return new StorageException(StorageExceptionCode.MIGRATION_FAILED, message, { cause });
}

/**
 * deploy/clickhouse/migrations of the checkout or install this code runs from, found by
 * walking up from this file: the same answer from libs/storage/src under ts-node or jest
 * and from dist/libs/storage/src after a build.
 */
export function defaultMigrationsDir(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'deploy', 'clickhouse', 'migrations');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) {
      throw fail(`no deploy/clickhouse/migrations directory above ${__dirname}`);
    }
  }
}
