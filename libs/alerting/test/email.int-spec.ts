import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { EmailChannel } from '../src/channels/email.channel';
import { seededRandom } from '../src/delivery/backoff';
import { DeliveryDispatcher } from '../src/delivery/delivery.dispatcher';
import { AlertRouter } from '../src/routing/alert.router';
import { type Subscription } from '../src/subscriptions/subscription';
import { MemoryDeliveryStore } from '../src/testing';
import { deliveryOf, notificationOf } from './receiver';

const FROM = 'Seismo <alerts@seismo.example>';
const signal = (): AbortSignal => AbortSignal.timeout(10_000);

/** One message as the server took it: the SMTP envelope and the raw MIME text. */
interface Taken {
  readonly from: string;
  readonly to: string[];
  readonly raw: string;
}

/** Recipients this server refuses at RCPT TO, with the reply code (a real server's 550 or 451). */
const REFUSED: Record<string, { code: number; text: string }> = {
  'nobody@acme.example': { code: 550, text: 'No such user here' },
  'busy@acme.example': { code: 451, text: 'Mailbox busy, try again later' },
};

/** Recipients this server defers once (greylisting's 450), then accepts. */
const deferOnce = new Set<string>();

interface Entity {
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Headers unfolded, names lowercased, encoded words (RFC 2047) decoded. */
function entityOf(raw: string): Entity {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
  }
  return { headers, body: raw.slice(split + 4) };
}

function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_, encoding: string, text: string) =>
      encoding.toLowerCase() === 'b'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQuotedPrintable(text.replace(/_/g, ' ')),
    );
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** The decoded text of every leaf part, by content type: enough MIME to read nodemailer's output. */
function partsOf(entity: Entity): Record<string, string> {
  const type = entity.headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/.exec(type)?.[1];
  if (type.startsWith('multipart/') && boundary) {
    const sections = entity.body.split(`--${boundary}`).slice(1, -1);
    return Object.assign({}, ...sections.map((s) => partsOf(entityOf(s.replace(/^\r\n/, '')))));
  }
  const encoding = (entity.headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const text =
    encoding === 'quoted-printable'
      ? decodeQuotedPrintable(entity.body)
      : encoding === 'base64'
        ? Buffer.from(entity.body, 'base64').toString('utf8')
        : entity.body;
  return { [type.split(';')[0].trim()]: text };
}

describe('EmailChannel against a real SMTP server', () => {
  const taken: Taken[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (deferOnce.delete(address.address)) {
        return callback(Object.assign(new Error('Greylisted, try again later'), { responseCode: 450 }));
      }
      const refusal = REFUSED[address.address];
      if (!refusal) return callback();
      callback(Object.assign(new Error(refusal.text), { responseCode: refusal.code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const { mailFrom, rcptTo } = session.envelope;
        taken.push({
          from: mailFrom ? mailFrom.address : '',
          to: rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  let channel: EmailChannel;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.server.address() as AddressInfo;
    channel = new EmailChannel({ url: `smtp://127.0.0.1:${port}`, from: FROM });
  });

  afterAll(async () => {
    channel.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    taken.length = 0;
    deferOnce.clear();
  });

  it('sends an opened incident as text and escaped HTML, with its series and feedback links', async () => {
    const hostile = '<script>alert(1)</script>';
    const series = `cpu{host="${hostile}"}`;
    const notification = notificationOf({
      title: `${series} anomalous (critical)`,
      series: [
        {
          series,
          metric: 'cpu',
          labels: { host: hostile },
          ts: Date.parse('2026-12-05T10:00:30Z'),
          value: 97,
          score: 0.95,
        },
      ],
    });
    const to = ['oncall@acme.example', 'lead@acme.example'];

    const outcome = await channel.send(deliveryOf({ kind: 'email', to }, notification), signal());

    expect(outcome).toEqual({ ok: true });
    expect(taken).toHaveLength(1);
    const [{ from, to: rcpt, raw }] = taken;
    expect(from).toBe('alerts@seismo.example');
    expect(rcpt).toEqual(to);
    const message = entityOf(raw);
    expect(message.headers).toMatchObject({
      from: FROM,
      to: 'oncall@acme.example, lead@acme.example',
      subject: `[CRITICAL] ${notification.title}`,
      'message-id': '<idem_1@seismo>',
      'in-reply-to': '<inc_1@seismo>',
      references: '<inc_1@seismo>',
      'x-seismo-idempotency-key': 'idem_1',
      'x-seismo-incident': 'inc_1',
    });
    expect(message.headers['content-type']).toMatch(/^multipart\/alternative/);

    const parts = partsOf(message);
    const text = parts['text/plain'];
    const html = parts['text/html'];
    expect(text).toContain(notification.summary);
    expect(text).toContain(`${series}  value 97  score 0.95  at 2026-12-05T10:00:30.000Z`);
    expect(text).toContain('State: opened');
    expect(html).toContain(`<p>${notification.summary}</p>`);
    expect(html).toContain(
      '<code>cpu{host=&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;}</code></td><td>97</td><td>0.95</td>',
    );
    expect(html).not.toContain('<script');

    const { feedback } = notification.links;
    for (const link of [feedback?.truePositive, feedback?.falsePositive, feedback?.expected]) {
      expect(text).toContain(`: ${link}`);
      expect(html).toContain(`href="${link}"`);
    }
    expect(html).toContain(`<a href="${notification.links.series}">Open the chart</a>`);
  });

  it('sends a resolved incident tagged RESOLVED, in the same thread, without feedback links when it has none', async () => {
    const resolvedAt = Date.parse('2026-12-05T10:20:00Z');
    const notification = notificationOf({
      id: 'inc_1:resolved:2',
      state: 'resolved',
      at: resolvedAt,
      resolvedAt,
      links: {},
    });

    const outcome = await channel.send(
      {
        ...deliveryOf({ kind: 'email', to: ['oncall@acme.example'] }, notification),
        idempotencyKey: 'idem_2',
      },
      signal(),
    );

    expect(outcome).toEqual({ ok: true });
    const message = entityOf(taken[0].raw);
    expect(message.headers).toMatchObject({
      subject: `[RESOLVED] ${notification.title}`,
      'message-id': '<idem_2@seismo>',
      references: '<inc_1@seismo>',
    });
    const parts = partsOf(message);
    expect(parts['text/plain']).toContain('State: resolved');
    expect(parts['text/plain']).toContain('Resolved: 2026-12-05T10:20:00.000Z');
    expect(parts['text/html']).toContain('State: <b>resolved</b>');
    expect(parts['text/plain']).not.toContain('Real anomaly:');
    expect(parts['text/html']).not.toContain('<a href=');
  });

  it('gives up on a recipient the server refuses with a 5xx', async () => {
    const outcome = await channel.send(deliveryOf({ kind: 'email', to: ['nobody@acme.example'] }), signal());

    expect(outcome).toEqual({
      ok: false,
      retryable: false,
      status: 550,
      error: 'SMTP 550: 550 No such user here',
    });
    expect(taken).toEqual([]);
  });

  it('tries again later when the server defers the recipient with a 4xx', async () => {
    const outcome = await channel.send(deliveryOf({ kind: 'email', to: ['busy@acme.example'] }), signal());

    expect(outcome).toEqual({
      ok: false,
      retryable: true,
      status: 451,
      error: 'SMTP 451: 451 Mailbox busy, try again later',
    });
    expect(taken).toEqual([]);
  });

  it('fails a delivery to several recipients when the server refuses one of them, retryable while one was deferred', async () => {
    // Only a delivery enqueued before deliveries were made per recipient names several.
    const to = ['oncall@acme.example', 'busy@acme.example', 'nobody@acme.example'];

    const outcome = await channel.send(deliveryOf({ kind: 'email', to }), signal());

    expect(outcome).toEqual({
      ok: false,
      retryable: true,
      status: 451,
      error:
        'busy@acme.example: SMTP 451: 451 Mailbox busy, try again later; ' +
        'nobody@acme.example: SMTP 550: 550 No such user here',
    });
    expect(taken.map((t) => t.to)).toEqual([['oncall@acme.example']]);

    const final = await channel.send(
      deliveryOf({ kind: 'email', to: ['oncall@acme.example', 'nobody@acme.example'] }),
      signal(),
    );
    expect(final).toMatchObject({ ok: false, retryable: false, status: 550 });
  });

  it('sends a subscription with several recipients one mail each: a deferred one retried alone, a refused one dead, each accepted one mailed once', async () => {
    const to = ['oncall@acme.example', 'lead@acme.example', 'later@acme.example', 'nobody@acme.example'];
    deferOnce.add('later@acme.example');
    const subscription: Subscription = {
      id: 'sub_mail',
      tenantId: notificationOf().tenantId,
      name: 'on-call by mail',
      filter: {},
      target: { kind: 'email', to },
      ratePerHour: 60,
      createdAt: 0,
    };
    const router = new AlertRouter({ subscriptionsOf: () => [subscription], silencesOf: () => [] });
    const outbox = new MemoryDeliveryStore();
    const attempts: string[] = [];
    const dispatcher = new DeliveryDispatcher(outbox, {
      channelFor: () => ({
        kind: 'email',
        send: async (delivery, abort) => {
          const outcome = await channel.send(delivery, abort);
          const [recipient] = delivery.target.kind === 'email' ? delivery.target.to : [];
          attempts.push(`${recipient} ${outcome.ok ? 'sent' : outcome.error}`);
          return outcome;
        },
      }),
      backoff: { baseMs: 20, capMs: 100 },
      random: seededRandom(3),
      flushMs: 5,
      logger: { warn: () => undefined, error: () => undefined },
    });
    await dispatcher.start();
    try {
      const routed = router.route(notificationOf(), Date.now());
      expect(routed.deliveries).toHaveLength(4);
      await dispatcher.enqueue(routed.deliveries);
      for (let i = 0; i < 500 && outbox.withStatus('pending').length > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await dispatcher.flush();
    } finally {
      await dispatcher.stop();
    }

    const byRecipient = Object.fromEntries(
      [...outbox.rows.values()].map((r) => [
        r.target.kind === 'email' ? r.target.to.join(',') : '',
        { status: r.status, attempts: r.attempts, lastStatus: r.lastStatus, lastError: r.lastError },
      ]),
    );
    expect(byRecipient).toEqual({
      'oncall@acme.example': { status: 'sent', attempts: 1, lastStatus: null, lastError: '' },
      'lead@acme.example': { status: 'sent', attempts: 1, lastStatus: null, lastError: '' },
      'later@acme.example': { status: 'sent', attempts: 2, lastStatus: null, lastError: '' },
      'nobody@acme.example': {
        status: 'dead',
        attempts: 1,
        lastStatus: 550,
        lastError: 'SMTP 550: 550 No such user here',
      },
    });
    expect(attempts.filter((a) => a.startsWith('later@'))).toEqual([
      'later@acme.example SMTP 450: 450 Greylisted, try again later',
      'later@acme.example sent',
    ]);
    // One message per accepted recipient, each addressed to that recipient alone, with its own Message-ID.
    expect(taken.map((t) => t.to).sort()).toEqual([
      ['later@acme.example'],
      ['lead@acme.example'],
      ['oncall@acme.example'],
    ]);
    const headers = taken.map((t) => entityOf(t.raw).headers);
    expect(headers.map((h) => h.to).sort()).toEqual([
      'later@acme.example',
      'lead@acme.example',
      'oncall@acme.example',
    ]);
    expect(new Set(headers.map((h) => h['message-id'])).size).toBe(3);
    expect(new Set(headers.map((h) => h.references))).toEqual(new Set(['<inc_1@seismo>']));
  });

  it('tries again later when no server listens', async () => {
    const spare = createNetServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    const { port } = spare.address() as AddressInfo;
    await new Promise<void>((resolve) => spare.close(() => resolve()));
    const nowhere = new EmailChannel({ url: `smtp://127.0.0.1:${port}`, from: FROM });
    try {
      const outcome = await nowhere.send(
        deliveryOf({ kind: 'email', to: ['oncall@acme.example'] }),
        signal(),
      );

      expect(outcome).toEqual({
        ok: false,
        retryable: true,
        error: expect.stringMatching(
          new RegExp(`^SMTP \\w+: .*ECONNREFUSED 127\\.0\\.0\\.1:${port}`),
        ) as string,
      });
    } finally {
      nowhere.close();
    }
  });
});
