import { type ClickHouseClient } from '@clickhouse/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AnomalyRecord } from '../src/anomaly';
import { ClickHouseConnection } from '../src/clickhouse.connection';
import { Migrator } from '../src/migrator';
import { type PointRecord } from '../src/point';
import { parseDedupToken, type DedupToken } from '../src/dedup-token';
import { StorageException } from '../src/storage.exception';
import { parseTenantId, type TenantId } from '../src/tenant-id';

/**
 * A real embedded ClickHouse in a fresh temporary directory, migrated. chdb binds one
 * data directory per process and Jest may run several test files one after another in
 * the same worker process, so every file closes its engine (`stop`) in afterAll: the
 * next file's engine can then bind its own directory.
 */
export class TestStorage {
  private constructor(
    readonly connection: ClickHouseConnection,
    private readonly dir: string,
  ) {}

  static async start(options: { migrate?: boolean } = {}): Promise<TestStorage> {
    const dir = mkdtempSync(join(tmpdir(), 'seismo-storage-'));
    const connection = await ClickHouseConnection.open({ dataDir: join(dir, 'clickhouse') });
    if (options.migrate ?? true) await new Migrator(connection.client).migrate();
    return new TestStorage(connection, dir);
  }

  get client(): ClickHouseClient {
    return this.connection.client;
  }

  /** A scratch directory inside this storage's temporary directory. */
  scratch(name: string): string {
    return join(this.dir, name);
  }

  /** Runs a query that is not the code under test (counting rows, forcing merges). */
  async rows<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    const result = await this.client.query({ query, query_params: params, format: 'JSONEachRow' });
    return result.json<T>();
  }

  async count(table: string, where = '1'): Promise<number> {
    const [row] = await this.rows<{ n: string }>(`SELECT count() AS n FROM ${table} WHERE ${where}`);
    return Number(row.n);
  }

  async stop(): Promise<void> {
    await this.connection.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const DAY_MS = 86_400_000;

// Rows keep the longest retention unless a test says otherwise: nothing a test wrote
// expires under it, whatever the date it runs on.
const KEEP = 65535;

export function pointRecord(
  tenantId: TenantId,
  series: string,
  ts: number,
  fields: Partial<PointRecord> = {},
): PointRecord {
  return { tenantId, series, ts, value: 1, score: 0, flags: 0, retentionDays: KEEP, ...fields };
}

export function anomalyRecord(
  tenantId: TenantId,
  id: string,
  ts: number,
  fields: Partial<AnomalyRecord> = {},
): AnomalyRecord {
  return {
    tenantId,
    id,
    series: 'cpu',
    ts,
    value: 42,
    score: 0.9,
    severity: 'critical',
    detectors: ['robust-zscore'],
    context: { ts: [ts - 2000, ts - 1000], values: [1, 2] },
    explanation: null,
    revision: 0,
    createdAt: ts + 5,
    retentionDays: KEEP,
    ...fields,
  };
}

let tenantCounter = 0;
/** A tenant of its own per test: the tests of a file share one engine and never see each other's rows. */
export function freshTenant(): TenantId {
  return parseTenantId(`tenant-${++tenantCounter}`);
}

let tokenCounter = 0;
/** A dedup token no earlier write of this file used. */
export function freshToken(source: string): DedupToken {
  return parseDedupToken(`${source}/0/${++tokenCounter}`);
}

/** The StorageException `promise` rejects with; fails the test if it resolves or rejects otherwise. */
export async function storageRejection(promise: Promise<unknown>): Promise<StorageException> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageException);
  return error as StorageException;
}
