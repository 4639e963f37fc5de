import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@seismo/config';
import { serve } from '../src/serve';

export interface TestServer {
  readonly url: string;
  readonly dataDir: string;
  readonly adminToken: string;
  /** Runs SQL on the server's own embedded ClickHouse (chdb binds one directory per process). */
  query<T>(sql: string): Promise<T[]>;
  close(): Promise<void>;
}

/**
 * A real embedded Seismo for an end-to-end test file: HTTP on a free loopback port,
 * ClickHouse embedded in a fresh temporary directory (removed on close), quiet logs.
 * `env` adds or overrides SEISMO_* variables.
 */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'seismo-e2e-'));
  const adminToken = env.SEISMO_ADMIN_TOKEN ?? 'e2e-admin-token-0123456789';
  try {
    const server = await serve(
      loadConfig({
        SEISMO_PORT: '0',
        SEISMO_HOST: '127.0.0.1',
        SEISMO_LOG_LEVEL: 'error',
        SEISMO_DATA_DIR: dataDir,
        SEISMO_ADMIN_TOKEN: adminToken,
        ...env,
      }),
    );
    return {
      url: server.url,
      dataDir,
      adminToken,
      query: async <T>(sql: string) =>
        (await server.runtime.connection.client.query({ query: sql, format: 'JSONEachRow' })).json<T>(),
      close: async () => {
        await server.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** Polls `probe` until it returns a value (the engine scores and stores asynchronously). */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** One JSON call of the API with a bearer key (a tenant key or the admin token): its status and parsed body. */
export async function callApi<T>(
  url: string,
  method: string,
  path: string,
  key: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** 600 points a minute apart from `start`, calm (about 50) but for the one at index 500, which is `spike`. */
export function spikySeries(
  series: string,
  labels: Record<string, string>,
  start: number,
  spike = 400,
): Array<{ series: string; labels: Record<string, string>; ts: number; value: number }> {
  const points = [];
  for (let i = 0; i < 600; i++) {
    const calm = 50 + 5 * Math.sin(i / 20) + ((i * 7919) % 13) / 13;
    points.push({ series, labels, ts: start + i * 60_000, value: i === 500 ? spike : calm });
  }
  return points;
}
