import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { type ExportRecord } from '@seismo/storage';

/** The version of the export's layout, in its first line: a reader checks it before trusting the rest. */
export const EXPORT_FORMAT = 1;

/** Lines gathered before they go to gzip: fewer, larger writes than one per row. */
const CHUNK_CHARS = 64 * 1024;

/**
 * A tenant's export as gzip-compressed NDJSON: a first line `{"type":"export", format,
 * tenant_id, exported_at}`, then one line per record (`type` says which table it is
 * from: point, anomaly, series_hour, usage_hour, audit, member, api_key, api_key_use,
 * billing_link, billing_send, tenant), and a last line `{"type":"end", counts}` with
 * the records of each type. A download cut short (a failure half-way) lacks that last
 * line, so it cannot pass for a complete one.
 *
 * Pulled, not pushed: the records are read from ClickHouse a page at a time as the client
 * takes the bytes, so a slow download holds one page in memory, not the tenant's data.
 */
export function exportStream(
  tenantId: string,
  records: AsyncIterable<ExportRecord>,
  now = Date.now(),
): Readable {
  return Readable.from(ndjson(tenantId, records, now), { objectMode: false }).pipe(createGzip());
}

async function* ndjson(
  tenantId: string,
  records: AsyncIterable<ExportRecord>,
  now: number,
): AsyncGenerator<string> {
  let chunk = `${JSON.stringify({
    type: 'export',
    format: EXPORT_FORMAT,
    tenant_id: tenantId,
    exported_at: new Date(now).toISOString(),
  })}\n`;
  const counts: Record<string, number> = {};
  for await (const record of records) {
    counts[record.type] = (counts[record.type] ?? 0) + 1;
    chunk += `${JSON.stringify(record)}\n`;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}${JSON.stringify({ type: 'end', counts })}\n`;
}

/** The download's file name: which tenant, and when. */
export function exportFileName(tenantId: string, now = Date.now()): string {
  return `seismo-export-${tenantId}-${new Date(now).toISOString().slice(0, 19).replace(/:/g, '')}.ndjson.gz`;
}
