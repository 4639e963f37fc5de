import { parseTenantId } from '@seismo/storage';
import { AlertingExceptionCode } from '../alerting.exception';
import { FEEDBACK_LINK_TTL_MS, FeedbackLinkSigner, feedbackLinks } from './feedback-link';

const tenant = parseTenantId('acme');
const NOW = Date.UTC(2026, 11, 1);

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('FeedbackLinkSigner', () => {
  const signer = new FeedbackLinkSigner('admin-token-0123456789');

  it('round-trips a claim until its expiry, 30 days on', () => {
    const token = signer.sign({ tenantId: tenant, anomalyId: 'an_1', label: 'false_positive' }, NOW);
    expect(signer.verify(token, NOW + FEEDBACK_LINK_TTL_MS)).toEqual({
      tenantId: tenant,
      anomalyId: 'an_1',
      label: 'false_positive',
      expiresAt: NOW + FEEDBACK_LINK_TTL_MS,
    });
  });

  it('refuses an expired token with EXPIRED_FEEDBACK_TOKEN', () => {
    const token = signer.sign({ tenantId: tenant, anomalyId: 'an_1', label: 'expected' }, NOW);
    expect(codeOf(() => signer.verify(token, NOW + FEEDBACK_LINK_TTL_MS + 1))).toBe(
      AlertingExceptionCode.EXPIRED_FEEDBACK_TOKEN,
    );
  });

  it('refuses a tampered, truncated or foreign token with INVALID_FEEDBACK_TOKEN', () => {
    const token = signer.sign({ tenantId: tenant, anomalyId: 'an_1', label: 'false_positive' }, NOW);
    const [body, mac] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), l: 'true_positive' }),
    ).toString('base64url');
    const flipped = `${body}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'AB' : 'AA'}`;
    const other = new FeedbackLinkSigner('another-deployment-token');
    for (const bad of [`${forged}.${mac}`, flipped, body, `${token}.x`, '', 'a.b']) {
      expect([bad, codeOf(() => signer.verify(bad, NOW))]).toEqual([
        bad,
        AlertingExceptionCode.INVALID_FEEDBACK_TOKEN,
      ]);
    }
    expect(codeOf(() => other.verify(token, NOW))).toBe(AlertingExceptionCode.INVALID_FEEDBACK_TOKEN);
  });

  it('makes the three links of an alert under the public URL', () => {
    const links = feedbackLinks(tenant, 'an_1', 'https://seismo.example/', signer, NOW);
    expect(Object.keys(links).sort()).toEqual(['expected', 'falsePositive', 'truePositive']);
    const label = (url: string) =>
      signer.verify(url.replace('https://seismo.example/v1/feedback/', ''), NOW).label;
    expect([label(links.truePositive), label(links.falsePositive), label(links.expected)]).toEqual([
      'true_positive',
      'false_positive',
      'expected',
    ]);
  });
});
