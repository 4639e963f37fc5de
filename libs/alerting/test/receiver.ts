import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type TenantId } from '@seismo/storage';
import { type ChannelTarget, type Delivery } from '../src/channel';
import { type Notification } from '../src/notification';

export interface Received {
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

/** A real HTTP receiver on 127.0.0.1; `answer` writes each response in turn. */
export async function startReceiver(
  answer: (request: Received, index: number, response: ServerResponse) => void,
): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const got = { headers: request.headers, body: Buffer.concat(chunks) };
      received.push(got);
      answer(got, received.length - 1, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function notificationOf(overrides: Partial<Notification> = {}): Notification {
  return {
    id: 'inc_1:opened:1',
    tenantId: 't_1' as TenantId,
    incidentId: 'inc_1',
    kind: 'anomaly',
    state: 'opened',
    severity: 'critical',
    title: 'cpu{host="web-1"} anomalous (critical)',
    summary: 'cpu on web-1 rose to 97, far above its usual 20-30.',
    openedAt: Date.parse('2026-12-05T10:00:00Z'),
    at: Date.parse('2026-12-05T10:01:00Z'),
    series: [
      {
        series: 'cpu{host="web-1"}',
        metric: 'cpu',
        labels: { host: 'web-1', service: 'api' },
        ts: Date.parse('2026-12-05T10:00:30Z'),
        value: 97,
        score: 0.95,
      },
    ],
    anomalyIds: ['an_1'],
    links: {
      series: 'https://seismo.example/series/cpu',
      feedback: {
        truePositive: 'https://seismo.example/f/tp',
        falsePositive: 'https://seismo.example/f/fp',
        expected: 'https://seismo.example/f/ex',
      },
    },
    ...overrides,
  };
}

export function deliveryOf(target: ChannelTarget, notification = notificationOf()): Delivery {
  return {
    id: 'dlv_1',
    idempotencyKey: 'idem_1',
    tenantId: notification.tenantId,
    subscriptionId: 'sub_1',
    target,
    notification,
    attempt: 1,
  };
}
