import { DEFAULT_DETECTOR } from '@seismo/detectors';
import { type HealthReport } from '../src/health/health.controller';
import { startTestServer, type TestServer } from './embedded-server.harness';

describe('GET /health (real server on loopback)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it('answers ok with the version and the default detector', async () => {
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as HealthReport;
    expect(body).toMatchObject({ status: 'ok', detector: DEFAULT_DETECTOR });
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.detectors).toContain(DEFAULT_DETECTOR);
  });

  it('checks embedded ClickHouse, has no broker, and reports the queue as the lag', async () => {
    const body = (await (await fetch(`${server.url}/health`)).json()) as HealthReport;
    expect(body).toMatchObject({
      role: 'all',
      mode: 'embedded',
      checks: {
        clickhouse: { status: 'up' },
        kafka: { status: 'embedded' },
        consumer_lag: { status: 'up', messages: 0 },
      },
      failing: [],
    });
  });

  it('answers 404 with a JSON error for an unknown path', async () => {
    const response = await fetch(`${server.url}/no-such-thing`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { statusCode: number }).statusCode).toBe(404);
  });
});
