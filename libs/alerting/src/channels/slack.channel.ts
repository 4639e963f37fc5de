import { type Channel, type Delivery, type SendOutcome, wrongTarget } from '../channel';
import { type Notification } from '../notification';
import { type HttpAnswer, type OutboundHttp } from './outbound-http';

/** Series listed one by one; the rest are counted ("and 3 more"), keeping the message readable and under 50 blocks. */
export const SLACK_MAX_LISTED_SERIES = 10;

/** Slack's answers that mean the incoming webhook will never work again. */
const GONE_ERRORS = new Set([
  'no_service',
  'channel_is_archived',
  'invalid_token',
  'channel_not_found',
  'no_active_hooks',
]);

/** Block Kit's limits (docs.slack.dev/reference/block-kit). */
const LIMITS = { header: 150, section: 3000, field: 2000, button: 75, url: 3000, fallback: 4000 } as const;

type Text = { type: 'plain_text' | 'mrkdwn'; text: string; emoji?: boolean };
export type SlackBlock =
  | { type: 'header'; text: Text }
  | { type: 'section'; text?: Text; fields?: Text[] }
  | { type: 'context'; elements: Text[] }
  | { type: 'actions'; elements: Array<{ type: 'button'; text: Text; url: string; action_id: string }> };

export interface SlackMessage {
  readonly text: string;
  readonly blocks: SlackBlock[];
}

/** Slack's mrkdwn escaping: `&`, `<`, `>` only, so a series name cannot become a mention or a link. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackMessageOf(n: Notification): SlackMessage {
  const top = [...n.series].sort((a, b) => b.score - a.score)[0];
  const listed = n.series.slice(0, SLACK_MAX_LISTED_SERIES).map((s) => `• \`${escapeMrkdwn(s.series)}\``);
  const more = n.series.length - listed.length;
  const summary = [escapeMrkdwn(n.summary), ...listed, ...(more > 0 ? [`…and ${more} more`] : [])].join('\n');
  const fields: Text[] = [
    mrkdwn(`*Severity*\n${n.severity}`, LIMITS.field),
    mrkdwn(`*State*\n${n.state}`, LIMITS.field),
    mrkdwn(`*Series*\n${n.series.length}`, LIMITS.field),
    ...(top
      ? [
          mrkdwn(`*Score*\n${top.score.toFixed(2)}`, LIMITS.field),
          mrkdwn(`*Value*\n${top.value}`, LIMITS.field),
        ]
      : []),
  ];
  const buttons = [
    ...(n.links.series ? [button('Open chart', n.links.series, 'seismo_chart')] : []),
    ...(n.links.feedback
      ? [
          button('Real anomaly', n.links.feedback.truePositive, 'seismo_true_positive'),
          button('False alarm', n.links.feedback.falsePositive, 'seismo_false_positive'),
          button('Expected', n.links.feedback.expected, 'seismo_expected'),
        ]
      : []),
  ].filter((b) => b.url.length <= LIMITS.url);
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: cut(`${icon(n)} ${n.title}`, LIMITS.header), emoji: true },
    },
    { type: 'section', text: mrkdwn(summary, LIMITS.section), fields },
    {
      type: 'context',
      elements: [
        mrkdwn(`Opened ${new Date(n.openedAt).toISOString()}`, LIMITS.field),
        mrkdwn(`Incident \`${escapeMrkdwn(n.incidentId)}\``, LIMITS.field),
      ],
    },
    ...(buttons.length > 0 ? [{ type: 'actions' as const, elements: buttons }] : []),
  ];
  // `text` is what notifications and old clients show: plain, escaped like any mrkdwn.
  return { text: cut(escapeMrkdwn(`${n.title}: ${n.summary}`), LIMITS.fallback), blocks };
}

/**
 * Posts Block Kit to a Slack incoming webhook. Slack answers 200 `ok`; a 404 or 410, or a
 * 4xx naming a removed service, archived channel or revoked token, is gone.
 */
export class SlackChannel implements Channel {
  readonly kind = 'slack' as const;

  constructor(private readonly http: OutboundHttp) {}

  send(delivery: Delivery, signal: AbortSignal): Promise<SendOutcome> {
    const { target } = delivery;
    if (target.kind !== 'slack') return Promise.resolve(wrongTarget(target, this.kind));
    return this.http.send(
      {
        url: target.url,
        body: JSON.stringify(slackMessageOf(delivery.notification)),
        signal,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'Seismo-Slack/1',
          // Slack ignores it; a proxy or a test receiver may not.
          'idempotency-key': delivery.idempotencyKey,
        },
      },
      { gone: slackGone },
    );
  }
}

function slackGone(answer: HttpAnswer): boolean {
  return answer.status === 404 || answer.status === 410 || GONE_ERRORS.has(answer.body.trim());
}

function icon(n: Notification): string {
  if (n.state === 'resolved') return '✅';
  return n.severity === 'critical' ? '🔴' : n.severity === 'warning' ? '🟠' : '🔵';
}

function mrkdwn(text: string, max: number): Text {
  return { type: 'mrkdwn', text: cut(text, max) };
}

function button(label: string, url: string, actionId: string) {
  return {
    type: 'button' as const,
    text: { type: 'plain_text' as const, text: label },
    url,
    action_id: actionId,
  };
}

/** Cuts at a limit without leaving half an escape (`&am`) or half a surrogate pair at the end. */
function cut(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return `${chars
    .slice(0, max - 1)
    .join('')
    .replace(/&[a-z]{0,3}$/, '')}…`;
}
