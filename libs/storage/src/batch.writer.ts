import { type DedupToken } from './dedup-token';

/**
 * Writes one batch: a JSONCompactEachRow (or RowBinary) payload into some columns of a
 * table, under a dedup token, so that the same batch written again is stored once.
 *
 * The token always travels in the INSERT's own SETTINGS clause, never in the client's
 * `clickhouse_settings`: over chdb/connection (chdb 3.4) those become `SET` statements
 * on the client's engine session, so a token would outlive its insert, and the next
 * insert into the same table without one would be taken for a retry and silently
 * dropped. A SETTINGS clause lasts one statement on every backend.
 *
 * Two implementations, one per backend, same statement: `ExecBatchWriter` for a server,
 * `ChdbBatchWriter` for the embedded engine, where it saves the main thread a copy of
 * the payload and also takes RowBinary.
 */
/** A column and its ClickHouse type, e.g. `{ name: 'ts', type: "DateTime64(3, 'UTC')" }`. */
export interface TypedColumn {
  readonly name: string;
  readonly type: string;
}

export interface BatchWriter {
  /** `table` and `columns` are the owning repository's constants, never user input. */
  write(table: string, columns: readonly string[], dedupToken: DedupToken, payload: Buffer): Promise<void>;
  /**
   * Writes a RowBinary payload (see RowBinaryWriter) whose rows hold `columns`, in their
   * order. Only where the backend takes it: the table with the most rows (points) is
   * written this way when it can be, since a binary row costs both sides a fraction of a
   * JSON one.
   */
  writeRowBinary?(
    table: string,
    columns: readonly TypedColumn[],
    dedupToken: DedupToken,
    payload: Buffer,
  ): Promise<void>;
}
