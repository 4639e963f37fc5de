import { type TenantId } from '@seismo/storage';
import { AlertingException, AlertingExceptionCode } from '../alerting.exception';
import { FEEDBACK_LINK_TTL_MS } from '../feedback/feedback-link';
import { type LinkPayload, openLink, SignedTokens } from './signed-token';

/** What a chart link's token says, once its signature checked out. */
export interface ChartClaim {
  readonly tenantId: TenantId;
  readonly series: string;
  /** Epoch milliseconds: the anomaly the alert was about, which the chart is centred on. */
  readonly at: number;
  /** Epoch milliseconds after which the link is refused (410). */
  readonly expiresAt: number;
}

interface Payload extends LinkPayload {
  readonly s: string;
  readonly a: number;
}

/**
 * Signs and checks the tokens of chart links (SignedTokens, purpose `chart links v1`): the
 * tenant, the series, the anomaly's time and the expiry. A chart link is a read-only view of
 * one series around one anomaly, good for as long as a feedback link (30 days): the token is
 * the credential, since a person following a link from Slack or an email sends no key.
 */
export class ChartLinkSigner {
  private readonly tokens: SignedTokens;

  constructor(adminToken: string) {
    this.tokens = new SignedTokens(adminToken, 'chart links v1');
  }

  sign(claim: Omit<ChartClaim, 'expiresAt'>, now = Date.now(), ttlMs = FEEDBACK_LINK_TTL_MS): string {
    const payload: Payload = { v: 1, t: claim.tenantId, s: claim.series, a: claim.at, e: now + ttlMs };
    return this.tokens.sign(payload);
  }

  /** The claim of a genuine token; INVALID_CHART_TOKEN (401) when not, EXPIRED_CHART_TOKEN (410) past its expiry. */
  verify(token: string, now = Date.now()): ChartClaim {
    const { payload, tenantId } = openLink<Payload>(
      this.tokens,
      token,
      now,
      (p) => typeof p.s === 'string' && Number.isFinite(p.a),
      {
        invalid: () =>
          new AlertingException(AlertingExceptionCode.INVALID_CHART_TOKEN, 'the chart link is not valid'),
        expired: (at) =>
          new AlertingException(
            AlertingExceptionCode.EXPIRED_CHART_TOKEN,
            `the chart link expired at ${new Date(at).toISOString()}`,
          ),
      },
    );
    return { tenantId, series: payload.s, at: payload.a, expiresAt: payload.e };
  }
}

/** An alert's chart link (Notification.links.series): `<publicUrl>/v1/charts/<token>`. */
export function chartLink(
  claim: Omit<ChartClaim, 'expiresAt'>,
  publicUrl: string,
  signer: ChartLinkSigner,
  now = Date.now(),
): string {
  return `${publicUrl.replace(/\/+$/, '')}/v1/charts/${signer.sign(claim, now)}`;
}
