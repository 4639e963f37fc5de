import { deliveryOf, notificationOf } from '../../test/receiver';
import { type IncidentState, type Notification, type NotifiedSeries } from '../notification';
import { type HttpAnswer, OutboundHttp, type OutboundPost } from './outbound-http';
import {
  PAGERDUTY_EVENTS_URL,
  PagerDutyChannel,
  type PagerDutyEvent,
  pagerDutyEventOf,
} from './pagerduty.channel';

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

const ROUTING_KEY = 'R0UT1NGKEY0123456789ABCDEFGHIJKL';
const TOP_LEVEL = new Set([
  'routing_key',
  'event_action',
  'dedup_key',
  'payload',
  'images',
  'links',
  'client',
  'client_url',
]);
const PAYLOAD = new Set([
  'summary',
  'source',
  'severity',
  'timestamp',
  'component',
  'group',
  'class',
  'custom_details',
]);
/** With the u flag a whole pair is one code point: this matches only half of one. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Every way an event breaks the Events API v2 (developer.pagerduty.com/docs/events-api-v2):
 * empty when PagerDuty would take it.
 */
function violations(event: PagerDutyEvent): string[] {
  const found: string[] = [];
  const json = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
  for (const key of Object.keys(json)) if (!TOP_LEVEL.has(key)) found.push(`unknown field ${key}`);
  if (typeof json.routing_key !== 'string' || json.routing_key === '') found.push('no routing_key');
  if (!['trigger', 'acknowledge', 'resolve'].includes(json.event_action as string)) {
    found.push(`event_action ${String(json.event_action)}`);
  }
  const dedup = json.dedup_key;
  if (typeof dedup !== 'string' || dedup === '' || dedup.length > 255)
    found.push(`dedup_key ${String(dedup)}`);
  if (json.links !== undefined) {
    if (!Array.isArray(json.links)) found.push('links not an array');
    else
      for (const link of json.links as Array<Record<string, unknown>>) {
        if (typeof link.href !== 'string' || !/^https?:\/\//.test(link.href))
          found.push(`link href ${String(link.href)}`);
        if (typeof link.text !== 'string' || link.text === '') found.push('link without text');
      }
  }
  if (json.client_url !== undefined && !/^https?:\/\//.test(String(json.client_url)))
    found.push('client_url');
  if (json.event_action !== 'trigger') return found;
  const payload = json.payload as Record<string, unknown> | undefined;
  if (!payload) return [...found, 'a trigger without payload'];
  for (const key of Object.keys(payload)) if (!PAYLOAD.has(key)) found.push(`unknown payload field ${key}`);
  const { summary, source, severity, timestamp } = payload;
  if (typeof summary !== 'string' || summary === '' || summary.length > 1024)
    found.push(`summary ${String(summary)}`);
  if (typeof source !== 'string' || source === '') found.push('no source');
  for (const [key, value] of Object.entries({ summary, source }))
    if (typeof value === 'string' && LONE_SURROGATE.test(value)) found.push(`${key}: half a character`);
  if (!['critical', 'error', 'warning', 'info'].includes(severity as string))
    found.push(`severity ${String(severity)}`);
  if (timestamp !== undefined && (typeof timestamp !== 'string' || !ISO_8601.test(timestamp))) {
    found.push(`timestamp ${String(timestamp)}`);
  }
  for (const key of ['component', 'group', 'class'])
    if (payload[key] !== undefined && typeof payload[key] !== 'string') found.push(`${key} not a string`);
  const details = payload.custom_details;
  if (details !== undefined && (typeof details !== 'object' || details === null || Array.isArray(details))) {
    found.push('custom_details not an object');
  }
  return found;
}

const seriesOf = (labels: Record<string, string>, i = 0): NotifiedSeries => ({
  series: `cpu{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`,
  metric: 'cpu',
  labels,
  ts: Date.parse('2026-12-05T10:00:30Z') + i * 1000,
  value: 90 + i,
  score: 0.8 + i / 100,
});
const STATES: IncidentState[] = ['opened', 'updated', 'renotified', 'resolved'];

describe('pagerDutyEventOf', () => {
  it.each<[string, Notification]>([
    ['an opened critical incident', notificationOf()],
    ['a warning without links', notificationOf({ severity: 'warning', links: {} })],
    ['an info of no series', notificationOf({ severity: 'info', kind: 'no_data', series: [] })],
    ['a title over 1024 characters', notificationOf({ title: 'cpu anomalous '.repeat(200) })],
    ['an emoji where the summary is cut', notificationOf({ title: `${'t'.repeat(1022)}${'😀'.repeat(5)}` })],
    ['an incident id over 255 characters', notificationOf({ incidentId: `inc_${'x'.repeat(400)}` })],
    [
      '30 series of several hosts',
      notificationOf({
        series: Array.from({ length: 30 }, (_, i) => seriesOf({ host: `web-${i}`, service: 'api' }, i)),
      }),
    ],
    ...STATES.map((state): [string, Notification] => [`an incident ${state}`, notificationOf({ state })]),
  ])('makes a valid event of %s', (_, notification) => {
    expect(violations(pagerDutyEventOf(notification, ROUTING_KEY, 'https://seismo.example'))).toEqual([]);
  });

  it('triggers on opened, updated and renotified and resolves on resolved, all under one dedup_key', () => {
    const events = STATES.map((state, sequence) =>
      pagerDutyEventOf(notificationOf({ id: `inc_1:${state}:${sequence}`, state }), ROUTING_KEY),
    );

    expect(events.map((e) => e.event_action)).toEqual(['trigger', 'trigger', 'trigger', 'resolve']);
    expect(events.map((e) => e.dedup_key)).toEqual(['inc_1', 'inc_1', 'inc_1', 'inc_1']);
    expect(events.map((e) => e.routing_key)).toEqual(STATES.map(() => ROUTING_KEY));
  });

  it('keeps one dedup_key of at most 255 characters for a long incident id, and another for another incident', () => {
    const id = `inc_${'x'.repeat(400)}`;
    const trigger = pagerDutyEventOf(notificationOf({ incidentId: id }), ROUTING_KEY);
    const resolve = pagerDutyEventOf(notificationOf({ incidentId: id, state: 'resolved' }), ROUTING_KEY);

    expect(trigger.dedup_key).toHaveLength(255);
    expect(resolve.dedup_key).toBe(trigger.dedup_key);
    expect(pagerDutyEventOf(notificationOf({ incidentId: 'inc_2' }), ROUTING_KEY).dedup_key).toBe('inc_2');
  });

  it('resolves with the routing key and dedup_key alone', () => {
    expect(
      pagerDutyEventOf(notificationOf({ state: 'resolved' }), ROUTING_KEY, 'https://seismo.example'),
    ).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: 'inc_1',
    });
  });

  it('triggers with the title as summary, the host as source, the change time and the details', () => {
    const event = pagerDutyEventOf(notificationOf(), ROUTING_KEY, 'https://seismo.example');

    expect(event).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'inc_1',
      payload: {
        summary: 'cpu{host="web-1"} anomalous (critical)',
        source: 'web-1',
        severity: 'critical',
        timestamp: '2026-12-05T10:01:00.000Z',
        component: 'cpu',
        group: 'api',
        class: 'anomaly',
        custom_details: {
          summary: 'cpu on web-1 rose to 97, far above its usual 20-30.',
          state: 'opened',
          incident_id: 'inc_1',
          opened_at: '2026-12-05T10:00:00.000Z',
          series: [{ series: 'cpu{host="web-1"}', ts: '2026-12-05T10:00:30.000Z', value: 97, score: 0.95 }],
          series_count: 1,
          score: 0.95,
          anomaly_ids: ['an_1'],
        },
      },
      links: [
        { href: 'https://seismo.example/series/cpu', text: 'Series chart' },
        { href: 'https://seismo.example/f/tp', text: 'Feedback: real anomaly' },
        { href: 'https://seismo.example/f/fp', text: 'Feedback: false alarm' },
        { href: 'https://seismo.example/f/ex', text: 'Feedback: expected' },
      ],
      client: 'Seismo',
      client_url: 'https://seismo.example',
    });
  });

  it('maps each severity, and sends no links when the notification has none', () => {
    const severityOf = (severity: Notification['severity']) => {
      const event = pagerDutyEventOf(notificationOf({ severity }), ROUTING_KEY);
      return event.event_action === 'trigger' ? event.payload.severity : undefined;
    };
    expect([severityOf('critical'), severityOf('warning'), severityOf('info')]).toEqual([
      'critical',
      'warning',
      'info',
    ]);
    const bare = pagerDutyEventOf(notificationOf({ links: {} }), ROUTING_KEY);
    expect(bare).toMatchObject({ links: [] });
    expect(bare).not.toHaveProperty('client_url');
  });

  it('takes the source and group from labels every series shares, else the first series key', () => {
    const sourceAndGroup = (series: NotifiedSeries[]) => {
      const event = pagerDutyEventOf(notificationOf({ series }), ROUTING_KEY);
      return event.event_action === 'trigger' ? [event.payload.source, event.payload.group] : [];
    };
    expect(
      sourceAndGroup([seriesOf({ pod: 'api-7', job: 'api' }), seriesOf({ pod: 'api-7', job: 'api' }, 1)]),
    ).toEqual(['api-7', 'api']);
    expect(sourceAndGroup([seriesOf({ host: 'web-1' }), seriesOf({ host: 'web-2' }, 1)])).toEqual([
      'cpu{host="web-1"}',
      undefined,
    ]);
    expect(sourceAndGroup([])).toEqual(['seismo', undefined]);
  });
});

describe('PagerDutyChannel', () => {
  const answer = (status: number, body = '', headers: Record<string, string> = {}): HttpAnswer => ({
    status,
    headers,
    body,
  });
  const send = async (reply: HttpAnswer, url?: string, notification = notificationOf()) => {
    const http = new ScriptedHttp(reply);
    try {
      const outcome = await new PagerDutyChannel(http, 'https://seismo.example').send(
        deliveryOf({ kind: 'pagerduty', routingKey: ROUTING_KEY, ...(url ? { url } : {}) }, notification),
        new AbortController().signal,
      );
      return { outcome, posts: http.posts };
    } finally {
      http.close();
    }
  };

  it("POSTs the event as JSON to PagerDuty's enqueue endpoint, and takes a 202", async () => {
    const { outcome, posts } = await send(
      answer(202, '{"status":"success","message":"Event processed","dedup_key":"inc_1"}'),
    );

    expect(outcome).toEqual({ ok: true, status: 202 });
    expect(posts).toHaveLength(1);
    expect(posts[0].url).toBe(PAGERDUTY_EVENTS_URL);
    expect(posts[0].url).toBe('https://events.pagerduty.com/v2/enqueue');
    expect(posts[0].headers).toMatchObject({ 'content-type': 'application/json' });
    expect(JSON.parse(posts[0].body)).toEqual(
      pagerDutyEventOf(notificationOf(), ROUTING_KEY, 'https://seismo.example'),
    );
  });

  it("sends a resolve to the target's own endpoint when it names one", async () => {
    const { outcome, posts } = await send(
      answer(202),
      'https://pd.test/v2/enqueue',
      notificationOf({ state: 'resolved' }),
    );

    expect(outcome).toEqual({ ok: true, status: 202 });
    expect(posts[0].url).toBe('https://pd.test/v2/enqueue');
    expect(JSON.parse(posts[0].body)).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: 'inc_1',
    });
  });

  it.each([
    [429, 'Too Many Requests', { retryable: true, retryAfterMs: 60_000 }, { 'retry-after': '60' }],
    [500, 'Internal Server Error', { retryable: true }, {}],
    [502, 'Bad Gateway', { retryable: true }, {}],
    [503, 'Service Unavailable', { retryable: true }, {}],
    [400, '{"status":"invalid event","message":"Event object is invalid"}', { retryable: false }, {}],
  ])('reads a %i (%s) as %j', async (status, body, expected, headers) => {
    const { outcome } = await send(answer(status, body, headers));

    expect(outcome).toEqual({
      ok: false,
      status,
      error: expect.stringMatching(`^HTTP ${status}`),
      ...expected,
    });
  });

  it('refuses a target of another kind without posting', async () => {
    const http = new ScriptedHttp(answer(202));
    const outcome = await new PagerDutyChannel(http).send(
      deliveryOf({ kind: 'slack', url: 'https://hooks.slack.com/x' }),
      new AbortController().signal,
    );
    http.close();

    expect(outcome).toMatchObject({ ok: false, retryable: false });
    expect(http.posts).toEqual([]);
  });
});
