import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { callSeismo, killSeismo, type SeismoProcess, startSeismo } from './seismo-process';

/*
 * An incident open when the embedded server (`seismo serve`, its own process) stops goes on
 * in the next one on the same data directory: a spike opens it and the webhook hears
 * `opened`; the server is stopped and started again; another spike of the same series
 * joins the open incident (no second `opened`); the server is killed (SIGKILL) and started
 * again with a short quiet time: the webhook hears `resolved` for the same incident, and a
 * subscription made after the incident opened, never told of it, hears nothing.
 */

jest.setTimeout(180_000);

const ADMIN = 'incident-restart-admin-token';
const MINUTE = 60_000;
const SERIES = 'latency{host="a"}';

function startServer(dataDir: string, env: Record<string, string> = {}): SeismoProcess {
  return startSeismo({
    SEISMO_DATA_DIR: dataDir,
    SEISMO_ADMIN_TOKEN: ADMIN,
    SEISMO_PARTITIONS: '2',
    SEISMO_ALLOW_PRIVATE_TARGETS: 'true',
    SEISMO_ALERT_TICK_MS: '200',
    ...env,
  });
}

/** 600 points a minute apart from `start`, calm but for a spike to `peak` at index 500. */
function spikySeries(start: number, peak: number): unknown[] {
  const points: unknown[] = [];
  for (let i = 0; i < 600; i++) {
    const value = i === 500 ? peak : 50 + 5 * Math.sin(i / 20) + ((i * 7919) % 13) / 13;
    points.push({ series: 'latency', labels: { host: 'a' }, ts: start + i * MINUTE, value });
  }
  return points;
}

interface Receipt {
  readonly path: string;
  readonly key: string;
  readonly body: { id: string; incident_id: string; state: string };
}

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('an open incident across restarts of the server (SIGTERM, then SIGKILL)', () => {
  let dataDir: string;
  let server: SeismoProcess | undefined;
  let receiver: Server;
  let receiverUrl: string;
  const receipts: Receipt[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'seismo-incident-restart-'));
    receiver = createServer((request: IncomingMessage, response: ServerResponse) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        receipts.push({
          path: request.url ?? '',
          key: String(request.headers['idempotency-key']),
          body: JSON.parse(Buffer.concat(chunks).toString()) as Receipt['body'],
        });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await killSeismo(server);
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('tells the incident opened once, and its resolution to the subscription told of it', async () => {
    server = startServer(dataDir);
    let url = await server.url;
    const call = <T>(method: string, route: string, key: string, body?: unknown): Promise<T> =>
      callSeismo<T>(url, method, route, key, body);
    const subscribe = (key: string, name: string) =>
      call('POST', '/v1/subscriptions', key, {
        channel: 'webhook',
        target: { url: `${receiverUrl}/hooks/${name}` },
        filter: { series: 'latency*' },
      });
    const heard = (path: string, state?: string) =>
      receipts.filter((r) => r.path === path && (state === undefined || r.body.state === state));

    const { api_key: key } = await call<{ api_key: string }>('POST', '/v1/tenants', ADMIN, {
      name: 'incident-restart',
    });
    await subscribe(key, 'told');
    const start = Date.now() - 1200 * MINUTE;
    await call('POST', '/v1/points', key, { points: spikySeries(start, 400) });
    const [opened] = await until(() => {
      const found = heard('/hooks/told', 'opened');
      return found.length > 0 ? found : undefined;
    }, 'the webhook heard the incident opened');
    const incidentId = opened.body.incident_id;

    // A clean stop: what was routed is in the outbox, then the incident in its table.
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);

    server = startServer(dataDir);
    url = await server.url;
    const secondSpike = start + 600 * MINUTE;
    // Higher than the first: a spike like the one it has seen no longer surprises the detector.
    await call('POST', '/v1/points', key, { points: spikySeries(secondSpike, 4000) });
    await until(async () => {
      const { anomalies } = await call<{ anomalies: unknown[] }>(
        'GET',
        `/v1/anomalies?series=${encodeURIComponent(SERIES)}&from=${new Date(secondSpike).toISOString()}`,
        key,
      );
      return anomalies.length > 0 ? anomalies : undefined;
    }, 'the second spike is stored');
    // Made after the incident opened, and told of nothing since: its resolution is not for it.
    await subscribe(key, 'late');
    await sleep(1000);
    expect(heard('/hooks/told', 'opened')).toHaveLength(1);
    expect(receipts.every((r) => r.body.incident_id === incidentId)).toBe(true);

    server.child.kill('SIGKILL');
    await server.exited;

    server = startServer(dataDir, { SEISMO_INCIDENT_RESOLVE_MS: '2000' });
    url = await server.url;
    const [resolved] = await until(() => {
      const found = heard('/hooks/told', 'resolved');
      return found.length > 0 ? found : undefined;
    }, `the webhook heard the incident resolved: ${server.stderr()}`);
    expect(resolved.body.incident_id).toBe(incidentId);
    await sleep(1500);

    expect(heard('/hooks/late')).toEqual([]);
    expect(heard('/hooks/told', 'opened')).toHaveLength(1);
    expect(heard('/hooks/told', 'resolved')).toHaveLength(1);
    expect(receipts.every((r) => r.body.incident_id === incidentId)).toBe(true);
    expect(receipts.map((r) => r.body.state).filter((s) => s !== 'updated')).toEqual(['opened', 'resolved']);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
