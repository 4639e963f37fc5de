import { deliveryOf, notificationOf } from '../../test/receiver';
import { type Notification, type NotifiedSeries } from '../notification';
import { type HttpAnswer, OutboundHttp, type OutboundPost } from './outbound-http';
import { SlackChannel, type SlackMessage, slackMessageOf } from './slack.channel';

/** OutboundHttp with the network taken out: records each post and answers as scripted; `send` is the real one. */
class ScriptedHttp extends OutboundHttp {
  readonly posts: OutboundPost[] = [];

  constructor(private readonly answer: HttpAnswer) {
    super({ allowPrivate: false });
  }

  override post(post: OutboundPost): Promise<HttpAnswer> {
    this.posts.push(post);
    return Promise.resolve(this.answer);
  }
}

const HOOK = 'https://hooks.slack.com/services/T000/B000/XXXX';
const KNOWN_BLOCKS = new Set(['header', 'section', 'context', 'actions', 'divider']);
const chars = (text: string): number => [...text].length;
/** With the u flag a whole pair is one code point: this matches only half of one. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

interface TextObject {
  type?: unknown;
  text?: unknown;
}

/**
 * Every way a message breaks Slack's incoming-webhook and Block Kit rules
 * (docs.slack.dev/reference/block-kit): empty when Slack would take it as it is.
 */
function violations(message: SlackMessage): string[] {
  const found: string[] = [];
  const text = (where: string, object: TextObject, max: number, type?: 'plain_text' | 'mrkdwn'): void => {
    if (object.type !== 'plain_text' && object.type !== 'mrkdwn')
      found.push(`${where}: type ${String(object.type)}`);
    if (type && object.type !== type) found.push(`${where}: ${String(object.type)}, not ${type}`);
    if (typeof object.text !== 'string' || object.text.length === 0)
      return void found.push(`${where}: no text`);
    if (chars(object.text) > max) found.push(`${where}: ${chars(object.text)} characters, more than ${max}`);
    if (LONE_SURROGATE.test(object.text)) found.push(`${where}: half a character (a lone surrogate)`);
    // Slack's links `<https://...|label>` aside, `&`, `<` and `>` must reach mrkdwn as entities.
    const bare = object.text.replace(/<https?:\/\/[^\s<>|]+(\|[^<>]*)?>/g, '').replace(/&(amp|lt|gt);/g, '');
    if (object.type === 'mrkdwn' && /[&<>]/.test(bare)) found.push(`${where}: unescaped & < or > in mrkdwn`);
  };
  if (typeof message.text !== 'string' || message.text.length === 0) found.push('no fallback text');
  else {
    if (chars(message.text) > 4000) found.push(`fallback text of ${chars(message.text)} characters`);
    if (/[&<>]/.test(message.text.replace(/&(amp|lt|gt);/g, ''))) found.push('unescaped fallback text');
  }
  if (!Array.isArray(message.blocks) || message.blocks.length === 0) return [...found, 'no blocks'];
  if (message.blocks.length > 50) found.push(`${message.blocks.length} blocks, more than 50`);
  const actionIds = new Set<string>();
  message.blocks.forEach((block, i) => {
    const at = `blocks[${i}] (${block.type})`;
    if (!KNOWN_BLOCKS.has(block.type)) return void found.push(`${at}: unknown block type`);
    if (block.type === 'header') text(`${at}.text`, block.text, 150, 'plain_text');
    if (block.type === 'section') {
      if (!block.text && !block.fields) found.push(`${at}: neither text nor fields`);
      if (block.text) text(`${at}.text`, block.text, 3000);
      if (block.fields) {
        if (block.fields.length > 10) found.push(`${at}: ${block.fields.length} fields, more than 10`);
        block.fields.forEach((field, f) => text(`${at}.fields[${f}]`, field, 2000));
      }
    }
    if (block.type === 'context') {
      if (block.elements.length === 0 || block.elements.length > 10)
        found.push(`${at}: ${block.elements.length} elements`);
      block.elements.forEach((element, e) => text(`${at}.elements[${e}]`, element, 3000));
    }
    if (block.type === 'actions') {
      if (block.elements.length === 0 || block.elements.length > 25)
        found.push(`${at}: ${block.elements.length} elements`);
      block.elements.forEach((button, b) => {
        const where = `${at}.elements[${b}]`;
        if (button.type !== 'button') found.push(`${where}: not a button`);
        text(`${where}.text`, button.text, 75, 'plain_text');
        if (!/^https?:\/\//.test(button.url) || button.url.length > 3000)
          found.push(`${where}: url ${button.url.length}`);
        if (
          button.action_id.length === 0 ||
          button.action_id.length > 255 ||
          actionIds.has(button.action_id)
        ) {
          found.push(`${where}: action_id ${button.action_id}`);
        }
        actionIds.add(button.action_id);
      });
    }
  });
  return found;
}

const seriesOf = (name: string, i = 0): NotifiedSeries => ({
  series: name,
  metric: 'cpu',
  labels: { host: `web-${i}` },
  ts: Date.parse('2026-12-05T10:00:30Z') + i * 1000,
  value: 90 + i,
  score: 0.9,
});
const buttonsOf = (message: SlackMessage) =>
  message.blocks.flatMap((block) => (block.type === 'actions' ? block.elements : []));
const mrkdwnOf = (message: SlackMessage): string[] =>
  message.blocks
    .flatMap((block) => {
      if (block.type === 'section') return [block.text, ...(block.fields ?? [])];
      if (block.type === 'context') return block.elements;
      return [];
    })
    .flatMap((t) => (t && t.type === 'mrkdwn' ? [t.text] : []));

describe('slackMessageOf', () => {
  const long = 'x'.repeat(5000);
  it.each<[string, Notification]>([
    ['an opened incident', notificationOf()],
    [
      'a resolved one without links',
      notificationOf({ state: 'resolved', resolvedAt: Date.parse('2026-12-05T10:20:00Z'), links: {} }),
    ],
    ['a warning of no series', notificationOf({ severity: 'warning', kind: 'no_data', series: [] })],
    [
      '60 series with long names',
      notificationOf({
        series: Array.from({ length: 60 }, (_, i) => seriesOf(`cpu{host="${'h'.repeat(400)}${i}"}`, i)),
      }),
    ],
    [
      'a title and summary far over every limit, full of & < >',
      notificationOf({ title: `🔴 ${'<&>'.repeat(400)}`, summary: `${'a & b < c > d '.repeat(800)}` }),
    ],
    ['an emoji where the header is cut', notificationOf({ title: `${'t'.repeat(145)}${'😀'.repeat(20)}` })],
    [
      'links longer than a button takes',
      notificationOf({
        links: {
          series: `https://seismo.example/${long}`,
          feedback: {
            truePositive: `https://f/${long}`,
            falsePositive: 'https://f/fp',
            expected: 'https://f/ex',
          },
        },
      }),
    ],
  ])('keeps %s within Block Kit', (_, notification) => {
    expect(violations(slackMessageOf(notification))).toEqual([]);
  });

  it('escapes &, < and > in every mrkdwn text and the fallback, so no series or summary mentions or links', () => {
    const message = slackMessageOf(
      notificationOf({
        title: 'cpu{host="<!channel>"} anomalous',
        summary: 'Load < 1 && load > 0, see <https://evil.example|this>',
        incidentId: 'inc_<@U123>',
        series: [seriesOf('cpu{host="<!channel>"}')],
      }),
    );

    expect(violations(message)).toEqual([]);
    const section = mrkdwnOf(message).join('\n');
    expect(section).toContain('Load &lt; 1 &amp;&amp; load &gt; 0, see &lt;https://evil.example|this&gt;');
    expect(section).toContain('• `cpu{host="&lt;!channel&gt;"}`');
    expect(section).toContain('Incident `inc_&lt;@U123&gt;`');
    expect(message.text).toBe(
      'cpu{host="&lt;!channel&gt;"} anomalous: Load &lt; 1 &amp;&amp; load &gt; 0, see &lt;https://evil.example|this&gt;',
    );
  });

  it('cuts a long mrkdwn text without leaving half an entity', () => {
    const message = slackMessageOf(notificationOf({ summary: '&'.repeat(3000) }));
    const [summary] = mrkdwnOf(message);
    expect(chars(summary)).toBeLessThanOrEqual(3000);
    expect(summary).toMatch(/(&amp;)+…$/);
  });

  it('lists ten series and counts the rest', () => {
    const message = slackMessageOf(
      notificationOf({ series: Array.from({ length: 25 }, (_, i) => seriesOf(`cpu{host="web-${i}"}`, i)) }),
    );
    const [summary] = mrkdwnOf(message);
    expect(summary.split('\n').filter((line) => line.startsWith('• '))).toHaveLength(10);
    expect(summary).toContain('• `cpu{host="web-9"}`');
    expect(summary).not.toContain('web-10');
    expect(summary).toMatch(/…and 15 more$/);
  });

  it('links the series chart when the notification has it, first of the buttons', () => {
    const withChart = buttonsOf(slackMessageOf(notificationOf()));
    expect(withChart[0]).toEqual({
      type: 'button',
      text: { type: 'plain_text', text: 'Open chart' },
      url: 'https://seismo.example/series/cpu',
      action_id: 'seismo_chart',
    });
    const feedbackOnly = notificationOf({ links: { feedback: notificationOf().links.feedback } });
    expect(buttonsOf(slackMessageOf(feedbackOnly)).map((b) => b.action_id)).toEqual([
      'seismo_true_positive',
      'seismo_false_positive',
      'seismo_expected',
    ]);
    expect(slackMessageOf(notificationOf({ links: {} })).blocks.map((b) => b.type)).toEqual([
      'header',
      'section',
      'context',
    ]);
  });

  it('heads an opened incident with its severity and a resolved one with a check mark', () => {
    const header = (n: Notification) => slackMessageOf(n).blocks[0];
    expect(header(notificationOf())).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: '🔴 cpu{host="web-1"} anomalous (critical)', emoji: true },
    });
    expect(header(notificationOf({ state: 'resolved' }))).toMatchObject({
      text: { text: expect.stringMatching(/^✅ /) },
    });
  });
});

describe('SlackChannel', () => {
  const answer = (status: number, body = '', headers: Record<string, string> = {}): HttpAnswer => ({
    status,
    headers,
    body,
  });
  const send = async (reply: HttpAnswer) => {
    const http = new ScriptedHttp(reply);
    try {
      const outcome = await new SlackChannel(http).send(
        deliveryOf({ kind: 'slack', url: HOOK }),
        new AbortController().signal,
      );
      return { outcome, posts: http.posts };
    } finally {
      http.close();
    }
  };

  it('POSTs the Block Kit message as JSON to the incoming webhook, and takes a 200 ok', async () => {
    const { outcome, posts } = await send(answer(200, 'ok'));

    expect(outcome).toEqual({ ok: true, status: 200 });
    expect(posts).toHaveLength(1);
    expect(posts[0].url).toBe(HOOK);
    expect(posts[0].headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'idempotency-key': 'idem_1',
    });
    expect(JSON.parse(posts[0].body)).toEqual(slackMessageOf(notificationOf()));
  });

  it.each([
    [429, 'rate_limited', { retryable: true, retryAfterMs: 30_000 }, { 'retry-after': '30' }],
    [500, 'internal_error', { retryable: true }, {}],
    [503, 'Service Unavailable', { retryable: true }, {}],
    [400, 'invalid_payload', { retryable: false }, {}],
    [403, 'invalid_token', { retryable: false, gone: true }, {}],
    [404, 'no_service', { retryable: false, gone: true }, {}],
    [410, 'Gone', { retryable: false, gone: true }, {}],
  ])('reads a %i %s as %j', async (status, body, expected, headers) => {
    const { outcome } = await send(answer(status, body, headers));

    expect(outcome).toEqual({
      ok: false,
      status,
      error: expect.stringMatching(`^HTTP ${status}`),
      ...expected,
    });
  });

  it('refuses a target of another kind without posting', async () => {
    const http = new ScriptedHttp(answer(200, 'ok'));
    const outcome = await new SlackChannel(http).send(
      deliveryOf({ kind: 'webhook', url: HOOK, secret: 's' }),
      new AbortController().signal,
    );
    http.close();

    expect(outcome).toMatchObject({ ok: false, retryable: false });
    expect(http.posts).toEqual([]);
  });
});
