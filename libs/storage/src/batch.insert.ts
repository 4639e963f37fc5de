import { encodeJsonCompactRows } from './batch.encoder';
import { type ClickHouseAccess } from './clickhouse.connection';
import { type DedupToken } from './dedup-token';
import { describeCause, StorageException, StorageExceptionCode } from './storage.exception';

/**
 * Writes rows to one table in one INSERT carrying the batch's dedup token: what every
 * repository's `insertBatch` does once it has checked its rows. Resolves once ClickHouse
 * has them; a failure names the table's rows (`noun`), their count and the token.
 */
export async function insertBatch<R>(
  clickhouse: ClickHouseAccess,
  table: string,
  columns: readonly string[],
  rows: readonly R[],
  tuple: (row: R, index: number) => unknown[],
  dedupToken: DedupToken,
  noun: string,
): Promise<void> {
  if (rows.length === 0) return;
  const payload = await encodeJsonCompactRows(rows, tuple);
  try {
    await clickhouse.writer.write(table, columns, dedupToken, payload);
  } catch (cause) {
    throw new StorageException(
      StorageExceptionCode.WRITE_FAILED,
      `writing ${rows.length} ${noun} (dedup token ${dedupToken}) failed: ${describeCause(cause)}`,
      { cause },
    );
  }
}
