import { gunzipSync } from 'node:zlib';
import { type ExportRecord } from '@seismo/storage';
import { EXPORT_FORMAT, exportFileName, exportStream } from './tenant-export';

async function download(records: ExportRecord[], now: number): Promise<string> {
  async function* source(): AsyncGenerator<ExportRecord> {
    yield* records;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of exportStream('acme', source(), now)) chunks.push(chunk as Buffer);
  return gunzipSync(Buffer.concat(chunks)).toString('utf8');
}

describe('exportStream', () => {
  const now = Date.UTC(2026, 10, 23, 12, 30, 5);

  it('frames the records between a header and an end line counting each type', async () => {
    const text = await download(
      [
        { type: 'point', series: 'cpu', value: 1 },
        { type: 'point', series: 'cpu', value: 2 },
        { type: 'member', email: 'ada@example.com' },
      ],
      now,
    );
    expect(text.split('\n')).toEqual([
      JSON.stringify({
        type: 'export',
        format: EXPORT_FORMAT,
        tenant_id: 'acme',
        exported_at: '2026-11-23T12:30:05.000Z',
      }),
      '{"type":"point","series":"cpu","value":1}',
      '{"type":"point","series":"cpu","value":2}',
      '{"type":"member","email":"ada@example.com"}',
      '{"type":"end","counts":{"point":2,"member":1}}',
      '',
    ]);
  });

  it('keeps every line whole across the chunks a large export is cut into', async () => {
    const records = Array.from({ length: 20_000 }, (_, i) => ({
      type: 'point',
      series: `s${i % 7}`,
      value: i,
    }));
    const lines = (await download(records, now)).trimEnd().split('\n');
    expect(lines).toHaveLength(20_002);
    expect(lines.slice(1, -1).map((line) => (JSON.parse(line) as { value: number }).value)).toEqual(
      records.map((r) => r.value),
    );
    expect(JSON.parse(lines[lines.length - 1])).toEqual({ type: 'end', counts: { point: 20_000 } });
  });

  it('says an empty tenant has nothing, rather than sending nothing', async () => {
    expect(
      (await download([], now))
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).type),
    ).toEqual(['export', 'end']);
  });

  it('names the file after the tenant and the instant', () => {
    expect(exportFileName('acme', now)).toBe('seismo-export-acme-2026-11-23T123005.ndjson.gz');
  });
});
