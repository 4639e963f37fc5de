import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { isProcessAlive } from '@seismo/kafka';
import { KAFKA_BROKER_HOOK_TIMEOUT_MS } from '@seismo/kafka/testing';

const BIN = path.resolve(__dirname, '../../../bin/seismo.js');
const ADMIN = 'e2e-admin-token-stack-0123456789';
const MINUTE = 60_000;

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('seismo stack (npm run stack: Kafka on 127.0.0.1, Seismo over it)', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'seismo-stack-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it(
    'runs one process over Kafka without a ClickHouse server, takes points, and SIGTERM stops everything',
    async () => {
      const stack = spawn(process.execPath, [BIN, 'stack'], {
        env: {
          ...process.env,
          SEISMO_HOST: '127.0.0.1',
          SEISMO_PORT: '0',
          SEISMO_DATA_DIR: dataDir,
          SEISMO_ADMIN_TOKEN: ADMIN,
          SEISMO_LOG_LEVEL: 'error',
          SEISMO_CLICKHOUSE_URL: '',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      stack.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      stack.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((done) => stack.once('exit', (code) => done(code)));
      try {
        const url = await until(
          () => /API listening on (http:\/\/\S+)/.exec(output)?.[1],
          `the API:\n${output}`,
        );
        expect(output).toContain('SEISMO_CLICKHOUSE_URL is not set');
        expect(output).toContain('SEISMO_ROLE=all');
        const pids = [...output.matchAll(/\(pid (\d+)\)|, pid (\d+)\)/g)].map((m) => Number(m[1] ?? m[2]));
        expect(pids).toHaveLength(2); // the broker and the one Seismo process
        expect(pids.every(isProcessAlive)).toBe(true);

        const health = (await (await fetch(`${url}/health`)).json()) as { mode: string; role: string };
        expect(health).toMatchObject({ mode: 'kafka', role: 'all' });
        const tenant = await fetch(`${url}/v1/tenants`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'stack-tenant' }),
        });
        const key = ((await tenant.json()) as { api_key: string }).api_key;
        const start = Date.now() - 400 * MINUTE;
        const points = Array.from({ length: 300 }, (_, i) => ({
          series: 'load',
          ts: start + i * MINUTE,
          value: i === 250 ? 400 : 50 + 5 * Math.sin(i / 20) + ((i * 7919) % 13) / 13,
        }));
        const posted = await fetch(`${url}/v1/points`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ points }),
        });
        expect(posted.status).toBe(202);
        await until(async () => {
          const response = await fetch(`${url}/v1/series`, { headers: { authorization: `Bearer ${key}` } });
          const { series } = (await response.json()) as { series: Array<{ series: string; points: number }> };
          return series.find((s) => s.series === 'load' && s.points === 300);
        }, 'the 300 points to be stored');

        stack.kill('SIGTERM');
        expect(await exited).toBe(0);
        expect(output).toContain('stopping');
        await until(
          () => (pids.some(isProcessAlive) ? undefined : true),
          'every process of the stack to end',
        );
      } finally {
        stack.kill('SIGKILL');
      }
    },
    KAFKA_BROKER_HOOK_TIMEOUT_MS,
  );
});
