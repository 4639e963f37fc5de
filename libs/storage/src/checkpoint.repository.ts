import { insertBatch } from './batch.insert';
import { type PartitionCheckpoint, type SeriesCheckpoint } from './checkpoint';
import { type ClickHouseAccess } from './clickhouse.connection';
import { toDateTime64Text } from './datetime64';
import { parseDedupToken } from './dedup-token';
import { requireQueryInteger, requireQueryText } from './query.guard';
import { MAX_SERIES_LENGTH, requireText } from './record.guard';
import { describeCause, StorageException, StorageExceptionCode } from './storage.exception';
import { type TenantId } from './tenant-id';

const COLUMNS = ['source', 'partition', 'tenant_id', 'series', 'offset', 'state', 'written_at'];

/**
 * Series rows per INSERT: about 1.7 MB of base64. A round of 100k series is ~700 MB, far
 * past one request's comfort, and an embedded session runs one statement at a time: a
 * round shares its session with each batch's usage and anomaly rows (the points have one
 * of their own), and small inserts let those through between two, so a round does not
 * hold up the anomalies of the moment.
 */
const ROWS_PER_INSERT = 250;

/**
 * The only code that reads or writes `checkpoints` (see 0004_checkpoints.sql for the
 * design). `source` names the log (a topic, or the embedded queue), `partition` its part.
 */
export class CheckpointRepository {
  constructor(
    private readonly clickhouse: ClickHouseAccess,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Writes one round: the series rows, then the marker, each insert after the previous
   * one landed, so a marker is never stored without every row before it.
   */
  async write(
    source: string,
    partition: number,
    offset: number,
    series: readonly SeriesCheckpoint[],
  ): Promise<void> {
    requireQueryText(source, 'source', 256);
    requireQueryInteger(partition, 'partition', 0, 2 ** 31 - 1);
    requireQueryInteger(offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const writtenAt = toDateTime64Text(this.clock());
    const tuple = (row: SeriesCheckpoint, i: number): unknown[] => [
      source,
      partition,
      requireText(row.tenantId, 'checkpoints', i, 'tenantId', 64),
      requireText(row.series, 'checkpoints', i, 'series', MAX_SERIES_LENGTH),
      offset,
      Buffer.from(row.state.buffer, row.state.byteOffset, row.state.byteLength).toString('base64'),
      writtenAt,
    ];
    const marker = { tenantId: '' as TenantId, series: '', state: new Uint8Array(0) };
    const markerTuple = (): unknown[] => [source, partition, '', '', offset, '', writtenAt];
    // The table keeps the newest row per series by offset, not by insert: tokens are only
    // required by the insert path, and a repeated round is harmless.
    const token = (part: string) => parseDedupToken(`checkpoint/${partition}/${offset}/${part}`);
    for (let start = 0; start < series.length; start += ROWS_PER_INSERT) {
      const rows = series.slice(start, start + ROWS_PER_INSERT);
      await insertBatch(
        this.clickhouse,
        'checkpoints',
        COLUMNS,
        rows,
        tuple,
        token(String(start)),
        'checkpoint rows',
      );
    }
    await insertBatch(
      this.clickhouse,
      'checkpoints',
      COLUMNS,
      [marker],
      markerTuple,
      token('marker'),
      'checkpoint marker',
    );
  }

  /**
   * The newest state of each series of a partition and the newest complete round, none
   * of it beyond `upTo` (the last offset the log committed).
   */
  async read(source: string, partition: number, upTo: number): Promise<PartitionCheckpoint> {
    requireQueryText(source, 'source', 256);
    requireQueryInteger(partition, 'partition', 0, 2 ** 31 - 1);
    requireQueryInteger(upTo, 'upTo', -1, Number.MAX_SAFE_INTEGER);
    let rows: Array<{ tenant_id: string; series: string; covered: string; state: string }>;
    try {
      const result = await this.clickhouse.client.query({
        // Grouped rather than FINAL: FINAL would pick the newest row before the offset
        // filter, and a row beyond `upTo` would then hide the one the restore needs.
        query: `SELECT tenant_id, series, max(offset) AS covered, argMax(state, offset) AS state
                FROM checkpoints
                WHERE source = {source:String} AND partition = {partition:UInt32} AND offset <= {upTo:Int64}
                GROUP BY tenant_id, series`,
        query_params: { source, partition, upTo },
        format: 'JSONEachRow',
      });
      rows = await result.json();
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.READ_FAILED,
        `reading the checkpoint of ${source} partition ${partition} failed: ${describeCause(cause)}`,
        { cause },
      );
    }
    let offset = -1;
    const series: Array<SeriesCheckpoint & { offset: number }> = [];
    for (const row of rows) {
      if (row.series === '') {
        offset = Number(row.covered);
        continue;
      }
      series.push({
        tenantId: row.tenant_id as TenantId,
        series: row.series,
        offset: Number(row.covered),
        state: new Uint8Array(Buffer.from(row.state, 'base64')),
      });
    }
    return { offset, series };
  }

  /** The highest offset any checkpoint of the partition covers; -1 when there is none. */
  async lastOffset(source: string, partition: number): Promise<number> {
    requireQueryText(source, 'source', 256);
    requireQueryInteger(partition, 'partition', 0, 2 ** 31 - 1);
    try {
      const result = await this.clickhouse.client.query({
        query: `SELECT count() AS n, max(offset) AS covered FROM checkpoints
                WHERE source = {source:String} AND partition = {partition:UInt32}`,
        query_params: { source, partition },
        format: 'JSONEachRow',
      });
      const [row] = await result.json<{ n: string; covered: string }>();
      return Number(row.n) === 0 ? -1 : Number(row.covered);
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.READ_FAILED,
        `reading the last checkpoint offset of ${source} partition ${partition} failed: ${describeCause(cause)}`,
        { cause },
      );
    }
  }
}
