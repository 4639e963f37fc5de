import { parseTenantId } from '@seismo/storage';
import { deliveryOf, notificationOf } from '../../test/receiver';
import { FeedbackLinkSigner, feedbackLinks } from '../feedback/feedback-link';
import { emailMessageOf } from './email.channel';
import { pagerDutyEventOf } from './pagerduty.channel';
import { slackMessageOf } from './slack.channel';
import { webhookBodyOf } from './webhook.channel';

const links = feedbackLinks(
  parseTenantId('t_1'),
  'an_1',
  'https://seismo.example/base',
  new FeedbackLinkSigner('admin-token-0123456789'),
);
const withLinks = notificationOf({ links: { feedback: links } });
const withoutLinks = notificationOf({ links: {} });
const all = [links.truePositive, links.falsePositive, links.expected];

describe('the feedback links of a notification, in every channel', () => {
  it('webhook: links.feedback by label, absent without links', () => {
    expect(
      webhookBodyOf(deliveryOf({ kind: 'webhook', url: 'https://h', secret: 's' }, withLinks)).links,
    ).toEqual({
      feedback: {
        true_positive: links.truePositive,
        false_positive: links.falsePositive,
        expected: links.expected,
      },
    });
    expect(
      webhookBodyOf(deliveryOf({ kind: 'webhook', url: 'https://h', secret: 's' }, withoutLinks)).links,
    ).toEqual({});
  });

  it('Slack: three buttons, none without links', () => {
    const buttons = (n: typeof withLinks) =>
      slackMessageOf(n).blocks.flatMap((block) => (block.type === 'actions' ? block.elements : []));
    expect(buttons(withLinks).map((b) => [b.text.text, b.url])).toEqual([
      ['Real anomaly', links.truePositive],
      ['False alarm', links.falsePositive],
      ['Expected', links.expected],
    ]);
    expect(buttons(withoutLinks)).toEqual([]);
  });

  it('email: each link in the text and as an href in the HTML', () => {
    const message = emailMessageOf(deliveryOf({ kind: 'email', to: ['a@example.com'] }, withLinks));
    for (const link of all) {
      expect(message.text).toContain(link);
      expect(message.html).toContain(`href="${link}"`);
    }
    const bare = emailMessageOf(deliveryOf({ kind: 'email', to: ['a@example.com'] }, withoutLinks));
    expect(bare.text).not.toContain('/v1/feedback/');
  });

  it('PagerDuty: the three links of the event', () => {
    const event = pagerDutyEventOf(withLinks, 'R0UTINGKEY');
    expect('links' in event ? event.links.map((l) => l.href) : []).toEqual(all);
  });
});
