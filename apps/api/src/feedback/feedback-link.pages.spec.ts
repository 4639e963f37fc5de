import { createHash } from 'node:crypto';
import { type Feedback } from '@seismo/alerting';
import { parseTenantId, type StoredAnomaly } from '@seismo/storage';
import { confirmPage, errorPage, FEEDBACK_PAGE_HEADERS, recordedPage } from './feedback-link.pages';

const ACME = parseTenantId('acme');
const TS = Date.UTC(2026, 11, 6, 12);

const anomaly: StoredAnomaly = {
  id: 'an_1',
  series: 'cpu{host="<script>alert(1)</script>"}',
  ts: TS,
  value: 400,
  score: 0.953,
  severity: 'critical',
  detectors: ['ensemble'],
  context: { ts: [], values: [] },
  explanation: null,
  revision: 0,
  createdAt: TS,
};

describe('feedback link pages', () => {
  it('name the anomaly and the label, escaped, with a form that posts back to the same URL', () => {
    const html = confirmPage(
      { tenantId: ACME, anomalyId: 'an_1', label: 'false_positive', expiresAt: TS + 1000 },
      anomaly,
    );
    expect(html).toContain('Mark this anomaly as false alarm?');
    expect(html).toContain('<code>an_1</code>');
    expect(html).toContain('cpu{host=&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;}');
    expect(html).not.toContain('<script');
    expect(html).toContain('<code>false_positive</code>');
    expect(html).toContain('score 0.95 (critical)');
    expect(html).toContain('<form method="post"><button type="submit">Confirm</button></form>');
    expect(html).toContain(new Date(TS + 1000).toISOString());
    // Nothing from elsewhere: no link, image, script or form target.
    expect(html).not.toMatch(/\b(href|src|action)=/);
  });

  it('confirm what was recorded, and say why a link was refused', () => {
    const feedback: Feedback = {
      tenantId: ACME,
      anomalyId: 'an_1',
      series: anomaly.series,
      anomalyTs: TS,
      label: 'expected',
      actor: 'feedback-link',
      createdAt: TS + 5000,
      signature: { direction: 1, magnitude: 9, detectors: ['ensemble'], score: 0.953 },
    };
    const recorded = recordedPage(feedback, anomaly);
    expect(recorded).toContain('Recorded: expected');
    expect(recorded).toContain('<code>expected</code>');
    expect(recorded).not.toContain('<script');
    expect(errorPage(410, 'the feedback link expired at <then>')).toContain(
      '<p>the feedback link expired at &lt;then&gt;</p>',
    );
  });

  it("allow the pages' one inline style by its hash, and nothing else", () => {
    const html = errorPage(401, 'the feedback link is not valid');
    const style = /<style>(.*)<\/style>/.exec(html)![1];
    const hash = createHash('sha256').update(style).digest('base64');
    expect(FEEDBACK_PAGE_HEADERS['content-security-policy']).toBe(
      `default-src 'none'; style-src 'sha256-${hash}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    );
    expect(FEEDBACK_PAGE_HEADERS['referrer-policy']).toBe('no-referrer');
  });
});
