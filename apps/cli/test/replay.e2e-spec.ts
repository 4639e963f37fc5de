import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { eventually, startTestServer, type TestServer } from '../../api/test/embedded-server.harness';

const BIN = path.resolve(__dirname, '../../../bin/seismo.js');
const ADMIN = 'e2e-replay-admin-token-0123';
const MINUTE = 60_000;
const DAY = 86_400_000;
const NAB_START = Date.UTC(2014, 6, 1);

interface Run {
  code: number | null;
  stderr: string;
}

function nabTimestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

describe('seismo replay (the built program, against a real embedded server)', () => {
  let server: TestServer;
  let dir: string;
  let key: string;

  const get = async <T>(route: string, token = key): Promise<T> => {
    const response = await fetch(`${server.url}${route}`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  };

  const replay = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, 'replay', ...args], {
        env: { ...process.env, SEISMO_API_KEY: '', ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });

  const csv = async (name: string, rows: Array<[number, string | number]>): Promise<string> => {
    const file = join(dir, name);
    await writeFile(file, `timestamp,value\n${rows.map(([t, v]) => `${nabTimestamp(t)},${v}`).join('\n')}\n`);
    return file;
  };

  const seriesNamed = async (name: string) =>
    (await get<{ series: Array<{ series: string; points: number }> }>('/v1/series')).series.find(
      (s) => s.series === name,
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seismo-replay-'));
    server = await startTestServer({ SEISMO_ADMIN_TOKEN: ADMIN, SEISMO_PARTITIONS: '2' });
    const created = await fetch(`${server.url}/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'replayer' }),
    });
    key = ((await created.json()) as { api_key: string }).api_key;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('replays a 2014 file ending now: the server gets every point, spacing kept, and finds the spike', async () => {
    const rows: Array<[number, number]> = [];
    for (let i = 0; i < 600; i++) {
      rows.push([
        NAB_START + i * MINUTE,
        i === 500 ? 400 : 50 + 5 * Math.sin(i / 20) + ((i * 7919) % 13) / 13,
      ]);
    }
    const file = await csv('cpu.csv', rows);
    const before = Date.now();
    const run = await replay([file, '--series', 'cpu', '--url', server.url, '--batch', '128'], {
      SEISMO_API_KEY: key,
    });
    expect(run.stderr).toContain('600 points accepted, 0 refused');
    expect(run.code).toBe(0);

    const stored = await eventually(async () => {
      const found = await seriesNamed('cpu');
      return found?.points === 600 ? found : undefined;
    }, 'all 600 points to be stored');
    expect(stored.points).toBe(600);

    const [, from, to] = /timestamps (\S+) to (\S+)\)/.exec(run.stderr) ?? [];
    expect(Date.parse(to) - Date.parse(from)).toBe(599 * MINUTE);
    expect(Date.parse(to)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(to)).toBeLessThanOrEqual(Date.now());
    const spike = new Date(Date.parse(from) + 500 * MINUTE).toISOString();
    const anomalies = await eventually(async () => {
      const found = (await get<{ anomalies: Array<{ ts: string }> }>('/v1/anomalies?series=cpu')).anomalies;
      return found.some((a) => a.ts === spike) ? found : undefined;
    }, 'the spike to become an anomaly');
    expect(anomalies.map((a) => a.ts)).toContain(spike);
  }, 60_000);

  it('at --speed X, sends each point when due, X times faster than recorded, none stamped ahead of its time', async () => {
    const file = await csv('paced.csv', [
      [NAB_START, 1],
      [NAB_START + MINUTE, 2],
      [NAB_START + 2 * MINUTE, 3],
    ]);
    const started = Date.now();
    const run = await replay([file, '--series', 'paced', '--url', server.url, '--key', key, '--speed', '60']);
    const ended = Date.now();
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('3 points accepted, 0 refused');
    // Two minutes at 60 times real time: two seconds, the last point stamped the instant it was sent.
    expect(ended - started).toBeGreaterThanOrEqual(2_000);
    const [, from, to] = /timestamps (\S+) to (\S+)\)/.exec(run.stderr) ?? [];
    expect(Date.parse(to) - Date.parse(from)).toBe(2 * MINUTE);
    expect(Date.parse(to)).toBeLessThanOrEqual(ended);
    expect(Date.parse(to)).toBeGreaterThanOrEqual(started + 2_000);
  }, 30_000);

  it('reports the points the server refuses with their line in the file, and sends the rest', async () => {
    // Laid out ending now, the first two rows are 9 and 8 days old: beyond the server's 7.
    const days = [0, 1, 3, 4, 5, 6, 9];
    const file = await csv(
      'long.csv',
      days.map((d) => [NAB_START + d * DAY, d]),
    );
    const run = await replay([file, '--series', 'long', '--url', server.url, '--key', key]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`${file}:2: refused: `);
    expect(run.stderr).toContain(`${file}:3: refused: `);
    expect(run.stderr).not.toContain(`${file}:4: refused`);
    expect(run.stderr).toMatch(/more than 7 days old when sent/);
    expect(run.stderr).toContain('5 points accepted, 2 refused');
  }, 30_000);

  it('stops on a bad key with exit 1, naming the status and the server’s answer', async () => {
    const file = await csv('small.csv', [[NAB_START, 1]]);
    const run = await replay([file, '--series', 'x', '--url', server.url, '--key', 'sk_not_a_real_key']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/answered 401 Unauthorized: .+ \(check --key or SEISMO_API_KEY\)/);
  }, 30_000);

  it('refuses a CSV with a bad line before sending anything, naming file and line (exit 2)', async () => {
    const file = join(dir, 'bad.csv');
    await writeFile(
      file,
      `timestamp,value\n${nabTimestamp(NAB_START)},1\n${nabTimestamp(NAB_START + MINUTE)},2\n${nabTimestamp(NAB_START + 2 * MINUTE)},abc\n`,
    );
    const run = await replay([file, '--series', 'bad', '--url', server.url, '--key', key]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${file}:4: value "abc" is not a number`);
    expect(await seriesNamed('bad')).toBeUndefined();
  }, 30_000);

  it('says what is missing when no key is given', async () => {
    const file = await csv('nokey.csv', [[NAB_START, 1]]);
    const run = await replay([file, '--series', 'x', '--url', server.url]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no API key: pass --key or set SEISMO_API_KEY');
  }, 30_000);
});
