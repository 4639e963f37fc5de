import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@seismo/config';
import { DEFAULT_DETECTOR } from '@seismo/detectors';
import { type HealthReport } from '../src/health/health.controller';
import { type RunningServer, serve } from '../src/serve';

describe('GET /health (real server on loopback)', () => {
  let server: RunningServer;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'seismo-health-'));
    server = await serve(
      loadConfig({
        SEISMO_PORT: '0',
        SEISMO_HOST: '127.0.0.1',
        SEISMO_LOG_LEVEL: 'error',
        SEISMO_DATA_DIR: dataDir,
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers ok with the version and the default detector', async () => {
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as HealthReport;
    expect(body).toMatchObject({ status: 'ok', detector: DEFAULT_DETECTOR });
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.detectors).toContain(DEFAULT_DETECTOR);
  });

  it('answers 404 with a JSON error for an unknown path', async () => {
    const response = await fetch(`${server.url}/no-such-thing`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { statusCode: number }).statusCode).toBe(404);
  });
});
