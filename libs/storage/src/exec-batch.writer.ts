import { type ClickHouseClient } from '@clickhouse/client';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { type BatchWriter } from './batch.writer';
import { type DedupToken } from './dedup-token';

/**
 * Writes batches through `client.exec`, which works on any backend: the one used for a
 * ClickHouse server. Not `client.insert`: it takes JSON formats only as JS objects and
 * encodes them a row at a time: two to three times the main-thread cost of the payload the
 * repositories build.
 */
export class ExecBatchWriter implements BatchWriter {
  constructor(private readonly client: ClickHouseClient) {}

  async write(
    table: string,
    columns: readonly string[],
    dedupToken: DedupToken,
    payload: Buffer,
  ): Promise<void> {
    // parseDedupToken admits only characters that need no quoting: a setting's value is
    // a SQL literal, it cannot be a bound parameter.
    const query =
      `INSERT INTO ${table} (${columns.join(', ')}) ` +
      `SETTINGS insert_deduplication_token = '${dedupToken}' FORMAT JSONCompactEachRow`;
    const result = await this.client.exec({ query, values: Readable.from([payload], { objectMode: false }) });
    // An INSERT answers with an empty body; over HTTP its socket is only released once
    // the body has been read.
    result.stream.resume();
    await finished(result.stream);
  }
}
