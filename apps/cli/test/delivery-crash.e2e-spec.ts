import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { callSeismo, killSeismo, type SeismoProcess, startSeismo } from './seismo-process';

/*
 * The embedded server (`seismo serve`, its own process) is killed with SIGKILL while its
 * dispatcher sends a backlog of webhook deliveries, some of them on the wire, and started
 * again on the same data directory. Once the outbox has nothing pending: every delivery it
 * holds reached its receiver, and a delivery received twice (the ones on the wire at the
 * kill) came both times with the same idempotency key and body.
 */

jest.setTimeout(180_000);

const ADMIN = 'delivery-crash-admin-token';
const SERIES = 30;
const SUBSCRIPTIONS = ['a', 'b'];
const MINUTE = 60_000;

function startServer(dataDir: string): SeismoProcess {
  return startSeismo({
    SEISMO_DATA_DIR: dataDir,
    SEISMO_ADMIN_TOKEN: ADMIN,
    SEISMO_PARTITIONS: '2',
    SEISMO_ALLOW_PRIVATE_TARGETS: 'true',
  });
}

/** 600 points a minute apart, calm but for a spike at index 500: one incident. */
function spikySeries(series: string, start: number): unknown[] {
  const points: unknown[] = [];
  for (let i = 0; i < 600; i++) {
    const value = i === 500 ? 400 : 50 + 5 * Math.sin(i / 20) + ((i * 7919) % 13) / 13;
    points.push({ series, ts: start + i * MINUTE, value });
  }
  return points;
}

interface Receipt {
  readonly path: string;
  readonly key: string;
  readonly body: string;
}

interface DeliveryRow {
  id: string;
  idempotency_key: string;
  subscription_id: string;
  incident_id: string;
  status: string;
  state: string;
}

describe('the server killed (SIGKILL) while it sends alerts, and restarted', () => {
  let dataDir: string;
  let server: SeismoProcess | undefined;
  let receiver: Server;
  let receiverUrl: string;
  const receipts: Receipt[] = [];
  /** Requests wait here until the test lets the receiver answer. */
  let gate: Promise<void>;
  let openGate: () => void = () => undefined;
  /** The server is killed when the receiver gets this many requests, before answering it. */
  let killAt = Number.POSITIVE_INFINITY;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'seismo-delivery-crash-'));
    gate = new Promise((resolve) => (openGate = resolve));
    receiver = createServer((request: IncomingMessage, response: ServerResponse) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        receipts.push({
          path: request.url ?? '',
          key: String(request.headers['idempotency-key']),
          body: Buffer.concat(chunks).toString(),
        });
        if (receipts.length === killAt) server?.child.kill('SIGKILL');
        void gate
          .then(() => sleep(20))
          .then(() => {
            // The sender may be gone: the socket it left is closed with it.
            if (!response.destroyed) response.writeHead(200).end();
          });
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

  it('delivers every alert of the outbox after the restart, a repeat only with the same key', async () => {
    server = startServer(dataDir);
    let url = await server.url;
    const call = <T>(method: string, route: string, key: string, body?: unknown): Promise<T> =>
      callSeismo<T>(url, method, route, key, body);
    const outbox = async (key: string) =>
      (await call<{ deliveries: DeliveryRow[] }>('GET', '/v1/deliveries?limit=1000', key)).deliveries;

    const { api_key: key } = await call<{ api_key: string }>('POST', '/v1/tenants', ADMIN, {
      name: 'delivery-crash',
    });
    for (const name of SUBSCRIPTIONS) {
      await call('POST', '/v1/subscriptions', key, {
        channel: 'webhook',
        target: { url: `${receiverUrl}/hooks/${name}` },
      });
    }
    const start = Date.now() - 600 * MINUTE;
    for (let s = 0; s < SERIES; s++) {
      await call('POST', '/v1/points', key, { points: spikySeries(`crash_${s}`, start) });
    }

    // Every series' incident is in the outbox, for both subscriptions, before anything is answered.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const rows = await outbox(key);
      const opened = new Set(rows.filter((r) => r.state === 'opened').map((r) => r.incident_id));
      if (opened.size === SERIES && rows.length >= SERIES * SUBSCRIPTIONS.length) break;
      if (Date.now() > deadline) throw new Error(`only ${opened.size} incidents in the outbox`);
      await sleep(100);
    }

    // Killed mid-backlog: some deliveries answered, a few on the wire, the rest pending.
    killAt = receipts.length + Math.floor(SERIES / 2);
    openGate();
    await server.exited;
    const atKill = receipts.length;

    server = startServer(dataDir);
    url = await server.url;
    let rows: DeliveryRow[];
    const resumed = Date.now() + 60_000;
    for (;;) {
      rows = await outbox(key);
      if (rows.length > 0 && rows.every((r) => r.status === 'sent')) break;
      if (Date.now() > resumed) throw new Error(`deliveries still pending: ${server.stderr()}`);
      await sleep(100);
    }
    expect(receipts.length).toBeGreaterThan(atKill);
    expect(rows.length).toBeGreaterThanOrEqual(SERIES * SUBSCRIPTIONS.length);

    // Every delivery the outbox holds was received, and nothing it does not hold.
    const receivedKeys = new Set(receipts.map((r) => r.key));
    expect([...receivedKeys].sort()).toEqual(rows.map((r) => r.idempotency_key).sort());
    // A key received twice came with the same body; one incident change of one subscription has one key.
    const bodyOf = new Map<string, string>();
    for (const receipt of receipts) {
      expect(bodyOf.get(receipt.key) ?? receipt.body).toBe(receipt.body);
      bodyOf.set(receipt.key, receipt.body);
    }
    const keysOfChange = new Map<string, Set<string>>();
    for (const receipt of receipts) {
      const { id } = JSON.parse(receipt.body) as { id: string };
      const change = `${receipt.path}|${id}`;
      keysOfChange.set(change, (keysOfChange.get(change) ?? new Set()).add(receipt.key));
    }
    expect([...keysOfChange.values()].every((keys) => keys.size === 1)).toBe(true);
    expect(receipts.length).toBeGreaterThanOrEqual(receivedKeys.size);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
