import { OutboundHttp } from '../src/channels/outbound-http';
import { WebhookChannel } from '../src/channels/webhook.channel';
import { deliveryOf, startReceiver } from './receiver';

describe('outbound HTTP with private targets refused', () => {
  // Names the test resolves itself: nothing here reaches a DNS server or a non-loopback address.
  const names: Record<string, Array<{ address: string; family: number }>> = {
    'hooks.example': [{ address: '127.0.0.1', family: 4 }],
    'metadata.example': [{ address: '169.254.169.254', family: 4 }],
    'mixed.example': [
      { address: '93.184.215.14', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ],
  };
  const resolved: string[] = [];
  const http = new OutboundHttp({
    allowPrivate: false,
    resolve: (hostname) => {
      resolved.push(hostname);
      const found = names[hostname];
      return found ? Promise.resolve(found) : Promise.reject(new Error(`test resolves no ${hostname}`));
    },
  });
  const channel = new WebhookChannel(http);
  afterAll(() => http.close());

  it.each([
    ['a loopback address', (port: number) => `http://127.0.0.1:${port}/hook`, 'loopback'],
    ['localhost', (port: number) => `http://localhost:${port}/hook`, 'localhost'],
    ['a private address', () => 'http://10.0.0.1/hook', 'private (10.0.0.0/8)'],
    ['IPv6 loopback', (port: number) => `http://[::1]:${port}/hook`, 'loopback (::1)'],
    ['IPv4-mapped loopback', (port: number) => `http://[::ffff:127.0.0.1]:${port}/hook`, 'loopback'],
    [
      'a name resolving to loopback',
      (port: number) => `http://hooks.example:${port}/hook`,
      'resolves to 127.0.0.1',
    ],
    [
      'a name resolving to cloud metadata',
      () => 'http://metadata.example/latest',
      'resolves to 169.254.169.254',
    ],
    [
      'a name with one private address among public ones',
      () => 'http://mixed.example/',
      'resolves to 10.0.0.7',
    ],
  ])('refuses %s before connecting, for good', async (_, urlOf, reason) => {
    const receiver = await startReceiver((__, ___, response) => response.writeHead(200).end());
    try {
      const port = Number(new URL(receiver.url).port);
      const outcome = await channel.send(
        deliveryOf({ kind: 'webhook', url: urlOf(port), secret: 'whsec_x' }),
        AbortSignal.timeout(5000),
      );
      expect(outcome).toMatchObject({ ok: false, retryable: false });
      expect(outcome.ok === false && outcome.error).toContain('target refused');
      expect(outcome.ok === false && outcome.error).toContain(reason);
      expect(receiver.received).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it('checks a literal address without resolving it, and a name where it is resolved', async () => {
    resolved.length = 0;
    await channel.send(
      deliveryOf({ kind: 'webhook', url: 'http://10.1.2.3/', secret: 'x' }),
      AbortSignal.timeout(5000),
    );
    expect(resolved).toEqual([]);
    await channel.send(
      deliveryOf({ kind: 'webhook', url: 'http://hooks.example:9/', secret: 'x' }),
      AbortSignal.timeout(5000),
    );
    expect(resolved).toEqual(['hooks.example']);
  });
});
