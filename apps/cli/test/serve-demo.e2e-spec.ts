import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';

const BIN = path.resolve(__dirname, '../../../bin/seismo.js');
const HINT = /curl -s '(http:\/\/\S+)\/v1\/anomalies' -H 'Authorization: Bearer (\S+)'/;

interface Demo {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
  /** The server and the demo key, from the hint line. */
  hint: Promise<{ url: string; key: string }>;
}

function startDemo(dataDir: string): Demo {
  const child = spawn(process.execPath, [BIN, 'serve', '--demo'], {
    env: {
      ...process.env,
      SEISMO_HOST: '127.0.0.1',
      SEISMO_PORT: '0',
      SEISMO_DATA_DIR: dataDir,
      SEISMO_LOG_LEVEL: 'error',
      SEISMO_ADMIN_TOKEN: '',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const hint = new Promise<{ url: string; key: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no anomalies hint: ${stderr}`)), 60_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = HINT.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1], key: match[2] });
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`exited before the hint: ${stderr}`));
    });
  });
  return { child, stderr: () => stderr, exited, hint };
}

async function anomaliesOf(url: string, key: string): Promise<Array<{ series: string; score: number }>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const response = await fetch(`${url}/v1/anomalies`, { headers: { authorization: `Bearer ${key}` } });
    expect(response.status).toBe(200);
    const { anomalies } = (await response.json()) as { anomalies: Array<{ series: string; score: number }> };
    if (anomalies.length > 0) return anomalies;
    if (Date.now() > deadline) throw new Error('no anomaly within a minute');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('seismo serve --demo (the built program, as npm start -- --demo runs it)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'seismo-demo-'));
  /** The key the first start printed: a restart must print the same one. */
  let firstKey = '';
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('replays the sample stream, prints where to look, shows anomalies within a minute, keeps serving', async () => {
    const demo = startDemo(dataDir);
    try {
      const { url, key } = await demo.hint;
      firstKey = key;
      const anomalies = await anomaliesOf(url, key);
      expect(anomalies[0].series).toBe('http_requests');
      expect(anomalies[0].score).toBeGreaterThanOrEqual(0.5);
      expect(demo.stderr()).toContain('1728 points sent, 1728 accepted, 0 refused');
      // Still serving after the replay.
      expect((await fetch(`${url}/health`)).status).toBe(200);
    } finally {
      demo.child.kill('SIGTERM');
    }
    expect(await demo.exited).toBe(0);
  }, 120_000);

  it('reuses the demo tenant and its stream, kept in the data directory, when restarted on it', async () => {
    const again = startDemo(dataDir);
    try {
      const { url, key } = await again.hint;
      expect(key).toBe(firstKey);
      expect(again.stderr()).toContain('kept from an earlier start');
      expect(again.stderr()).not.toContain('points sent');
      expect((await anomaliesOf(url, key)).length).toBeGreaterThan(0);
      const listed = await fetch(`${url}/v1/series`, { headers: { authorization: `Bearer ${key}` } });
      expect(((await listed.json()) as { series: Array<{ points: number }> }).series).toEqual([
        expect.objectContaining({ series: 'http_requests', points: 1728 }),
      ]);
    } finally {
      again.child.kill('SIGTERM');
    }
    expect(await again.exited).toBe(0);
  }, 120_000);
});
