import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const BIN = path.resolve(__dirname, '../../../bin/seismo.js');

/** `seismo serve` as a process of its own, for the crash tests: what they kill and wait on. */
export interface SeismoProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  /** The address it listens on, once it says so; rejects if it exits first. */
  readonly url: Promise<string>;
  stderr(): string;
}

/**
 * Starts the built `seismo serve` on 127.0.0.1 (a free port) with the test's environment
 * over this one's, its stderr kept for the test's failure messages.
 */
export function startSeismo(env: Record<string, string>): SeismoProcess {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: { ...process.env, SEISMO_HOST: '127.0.0.1', SEISMO_PORT: '0', SEISMO_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) resolve(match[1]);
    });
    child.on('exit', () => reject(new Error(`seismo serve exited before listening: ${stderr}`)));
  });
  url.catch(() => undefined);
  return { child, url, exited: new Promise((resolve) => child.on('exit', resolve)), stderr: () => stderr };
}

/** One JSON call of a running server with a bearer key; fails the test on a status of 300 or more. */
export async function callSeismo<T>(
  url: string,
  method: string,
  route: string,
  key: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  expect(response.status).toBeLessThan(300);
  return (await response.json()) as T;
}

/** Kills a server still running (a test that failed half-way) and waits for it to be gone. */
export async function killSeismo(server: SeismoProcess | undefined): Promise<void> {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
}
