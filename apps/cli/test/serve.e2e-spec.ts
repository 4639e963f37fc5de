import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';

const BIN = path.resolve(__dirname, '../../../bin/seismo.js');

function start(env: Record<string, string>): ChildProcess {
  const dataDir = mkdtempSync(join(tmpdir(), 'seismo-serve-'));
  return spawn(process.execPath, [BIN, 'serve'], {
    env: { ...process.env, SEISMO_HOST: '127.0.0.1', SEISMO_PORT: '0', SEISMO_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function collect(child: ChildProcess): { stderr: () => string } {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { stderr: () => stderr };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

describe('seismo serve (the built program, as npm start runs it)', () => {
  it('prints a generated admin token once, listens, answers /health, and stops cleanly on SIGTERM', async () => {
    const child = start({ SEISMO_LOG_LEVEL: 'error' });
    const output = collect(child);
    const done = exited(child);
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line: ${output.stderr()}`)), 20_000);
        child.stderr?.on('data', () => {
          const match = /listening on (http:\/\/\S+)/.exec(output.stderr());
          if (match) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
      });
      const response = await fetch(`${url}/health`);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { status: string }).status).toBe('ok');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await done).toBe(0);
    expect(output.stderr()).toContain('shutting down');
    expect(output.stderr()).toMatch(/admin token \(shown once/);
  });

  it('refuses a bad variable at start, naming it, with exit code 2', async () => {
    const child = start({ SEISMO_PORT: 'eighty' });
    const output = collect(child);
    expect(await exited(child)).toBe(2);
    expect(output.stderr()).toContain('SEISMO_PORT');
  });
});
