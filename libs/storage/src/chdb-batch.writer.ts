import { type ChdbExtension } from 'chdb/connection';
import { type BatchWriter } from './batch.writer';
import { type DedupToken } from './dedup-token';

/**
 * Writes batches into the embedded engine through chdb's raw insert, which hands the
 * payload Buffer to the engine without copying it. Through `client.exec`, chdb/connection
 * would decode the payload into a string and splice it into the SQL text on the main
 * thread: measured, an event-loop stall of ~0.25 ms per 1000 rows (25 ms for a
 * 100k-row batch) against ~0.01 ms here. The statement is the one ExecBatchWriter sends:
 * chdb builds `INSERT INTO t (cols) SETTINGS k='v' FORMAT f` itself, quoting the value.
 */
export class ChdbBatchWriter implements BatchWriter {
  constructor(private readonly chdb: ChdbExtension) {}

  async write(
    table: string,
    columns: readonly string[],
    dedupToken: DedupToken,
    payload: Buffer,
  ): Promise<void> {
    await this.chdb.rawInsert({
      table,
      columns,
      values: payload,
      format: 'JSONCompactEachRow',
      settings: { insert_deduplication_token: dedupToken },
    });
  }
}
