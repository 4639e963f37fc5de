import { parseTenantId } from '@seismo/storage';
import { chartLink, ChartLinkSigner } from './chart-link';
import { SignedTokens } from './signed-token';

const ADMIN = 'admin-token-0123456789';
const ACME = parseTenantId('acme');
const NOW = Date.UTC(2026, 11, 7, 12);
const DAY = 86_400_000;

describe('ChartLinkSigner', () => {
  const signer = new ChartLinkSigner(ADMIN);
  const claim = { tenantId: ACME, series: 'cpu{host="a"}', at: NOW - 60_000 };

  it('signs a link under the public URL whose token says the tenant, the series and the time, for 30 days', () => {
    const link = chartLink(claim, 'https://seismo.example/base/', signer, NOW);
    expect(link).toMatch(/^https:\/\/seismo\.example\/base\/v1\/charts\/[\w-]+\.[\w-]+$/);
    const token = link.split('/').pop()!;
    expect(signer.verify(token, NOW + 29 * DAY)).toEqual({ ...claim, expiresAt: NOW + 30 * DAY });
    expect(() => signer.verify(token, NOW + 31 * DAY)).toThrow(
      expect.objectContaining({ code: 'EXPIRED_CHART_TOKEN' }),
    );
  });

  it('refuses a token that is malformed, tampered, of another deployment, or of another purpose', () => {
    const token = signer.sign(claim, NOW);
    const refused = expect.objectContaining({ code: 'INVALID_CHART_TOKEN' });
    for (const bad of ['', 'x', `${token}.x`, `A${token}`, 'x'.repeat(9000)]) {
      expect(() => signer.verify(bad, NOW)).toThrow(refused);
    }
    expect(() => new ChartLinkSigner('another-admin-token').verify(token, NOW)).toThrow(refused);
    const other = new SignedTokens(ADMIN, 'feedback links v1').sign({
      v: 1,
      t: 'acme',
      s: 'cpu',
      a: NOW,
      e: NOW + DAY,
    });
    expect(() => signer.verify(other, NOW)).toThrow(refused);
    // Genuine, but not a chart claim (a later version's, say): refused too.
    const wrongShape = new SignedTokens(ADMIN, 'chart links v1').sign({ v: 2, t: 'acme' });
    expect(() => signer.verify(wrongShape, NOW)).toThrow(refused);
  });
});
