import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { OutboundHttp } from '../src/channels/outbound-http';
import { verifyWebhookSignature, WebhookChannel } from '../src/channels/webhook.channel';
import { deliveryOf, startReceiver } from './receiver';

const README = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
const SECRET = 'whsec_test-secret';

/** The README's recipe, exactly as a reader copies it. */
function recipe(name: 'node' | 'shell'): string {
  const match = new RegExp(
    `<!-- webhook-recipe:${name} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\`\\n<!-- /webhook-recipe:${name} -->`,
  ).exec(README);
  if (!match) throw new Error(`README has no ${name} recipe`);
  return match[1];
}

const signal = (): AbortSignal => AbortSignal.timeout(5000);

describe('WebhookChannel against a real receiver', () => {
  const http = new OutboundHttp({ allowPrivate: true });
  const channel = new WebhookChannel(http);
  afterAll(() => http.close());

  it('POSTs signed JSON that the README recipes (Node and openssl) verify', async () => {
    const receiver = await startReceiver((_, __, response) => response.writeHead(204).end());
    try {
      const outcome = await channel.send(
        deliveryOf({ kind: 'webhook', url: `${receiver.url}/hook`, secret: SECRET }),
        signal(),
      );
      expect(outcome).toEqual({ ok: true, status: 204 });
      const [{ headers, body }] = receiver.received;
      expect(headers).toMatchObject({
        'content-type': 'application/json',
        'user-agent': 'Seismo-Webhook/1',
        'idempotency-key': 'idem_1',
        'seismo-delivery': 'dlv_1',
      });
      expect(JSON.parse(body.toString())).toMatchObject({
        v: 1,
        id: 'inc_1:opened:1',
        idempotency_key: 'idem_1',
        delivery_id: 'dlv_1',
        attempt: 1,
        incident_id: 'inc_1',
        state: 'opened',
        opened_at: '2026-12-05T10:00:00.000Z',
        series: [{ series: 'cpu{host="web-1"}', ts: '2026-12-05T10:00:30.000Z', value: 97, score: 0.95 }],
        links: { feedback: { true_positive: 'https://seismo.example/f/tp' } },
      });

      const verifySeismo = runInNewContext(`${recipe('node')}\nverifySeismo`, { require, Buffer }) as (
        secret: string,
        headers: unknown,
        rawBody: Buffer,
      ) => boolean;
      expect(verifySeismo(SECRET, headers, body)).toBe(true);
      expect(verifySeismo('whsec_other', headers, body)).toBe(false);
      expect(verifySeismo(SECRET, headers, Buffer.concat([body, Buffer.from(' ')]))).toBe(false);

      const dir = mkdtempSync(join(tmpdir(), 'seismo-webhook-'));
      writeFileSync(join(dir, 'body.json'), body);
      const shell = (secret: string): string =>
        execFileSync('sh', ['-c', recipe('shell')], {
          cwd: dir,
          env: {
            PATH: process.env.PATH,
            SECRET: secret,
            TIMESTAMP: String(headers['seismo-timestamp']),
            SIGNATURE: String(headers['seismo-signature']),
          },
        })
          .toString()
          .trim();
      expect(shell(SECRET)).toBe('valid');
      expect(shell('whsec_other')).toBe('invalid');

      expect(
        verifyWebhookSignature({
          secret: SECRET,
          signatureHeader: `v1=${'0'.repeat(64)}, ${String(headers['seismo-signature'])}`,
          timestampHeader: String(headers['seismo-timestamp']),
          body,
        }),
      ).toBe(true);
      expect(
        verifyWebhookSignature({
          secret: SECRET,
          signatureHeader: String(headers['seismo-signature']),
          timestampHeader: String(headers['seismo-timestamp']),
          body,
          now: Date.now() + 301_000,
        }),
      ).toBe(false);
    } finally {
      await receiver.close();
    }
  });

  it('answers retryable twice for a receiver that fails twice, then ok, with the same idempotency key', async () => {
    const receiver = await startReceiver((_, index, response) =>
      response.writeHead(index < 2 ? 500 : 200).end(index < 2 ? 'database down' : 'ok'),
    );
    try {
      const target = { kind: 'webhook' as const, url: receiver.url, secret: SECRET };
      const outcomes = [];
      for (let attempt = 1; attempt <= 3; attempt++) {
        outcomes.push(await channel.send({ ...deliveryOf(target), attempt }, signal()));
      }
      expect(outcomes).toEqual([
        { ok: false, retryable: true, status: 500, error: 'HTTP 500: database down' },
        { ok: false, retryable: true, status: 500, error: 'HTTP 500: database down' },
        { ok: true, status: 200 },
      ]);
      expect(new Set(receiver.received.map((r) => r.headers['idempotency-key']))).toEqual(
        new Set(['idem_1']),
      );
      expect(
        receiver.received.map((r) => (JSON.parse(r.body.toString()) as { attempt: number }).attempt),
      ).toEqual([1, 2, 3]);
    } finally {
      await receiver.close();
    }
  });

  it('gives up on a receiver that hangs when the signal aborts: retryable, timed out', async () => {
    const receiver = await startReceiver(() => undefined);
    try {
      const started = Date.now();
      const outcome = await channel.send(
        deliveryOf({ kind: 'webhook', url: receiver.url, secret: SECRET }),
        AbortSignal.timeout(300),
      );
      expect(outcome).toEqual({ ok: false, retryable: true, error: 'timed out' });
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await receiver.close();
    }
  });

  it('reads 410 as gone, 429 with Retry-After as retryable later, and never follows a redirect', async () => {
    const receiver = await startReceiver((_, index, response) => {
      if (index === 0) response.writeHead(410).end('subscription removed');
      else if (index === 1) response.writeHead(429, { 'retry-after': '30' }).end();
      else response.writeHead(302, { location: `http://127.0.0.1:1/internal` }).end();
    });
    try {
      const delivery = deliveryOf({ kind: 'webhook', url: `${receiver.url}/hook`, secret: SECRET });
      expect(await channel.send(delivery, signal())).toEqual({
        ok: false,
        retryable: false,
        gone: true,
        status: 410,
        error: 'HTTP 410: subscription removed',
      });
      expect(await channel.send(delivery, signal())).toEqual({
        ok: false,
        retryable: true,
        status: 429,
        retryAfterMs: 30_000,
        error: 'HTTP 429',
      });
      expect(await channel.send(delivery, signal())).toEqual({
        ok: false,
        retryable: false,
        status: 302,
        error: 'HTTP 302: redirect to http://127.0.0.1:1/internal not followed',
      });
      expect(receiver.received).toHaveLength(3);
    } finally {
      await receiver.close();
    }
  });

  it('reads at most 64 KiB of an answer', async () => {
    const receiver = await startReceiver((_, __, response) => {
      response.writeHead(500);
      response.end('e'.repeat(1024 * 1024));
    });
    try {
      const answer = await http.post({ url: receiver.url, headers: {}, body: '{}', signal: signal() });
      expect(answer.body.length).toBe(64 * 1024);
    } finally {
      await receiver.close();
    }
  });
});
