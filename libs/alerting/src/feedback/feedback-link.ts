import { type TenantId } from '@seismo/storage';
import { AlertingException, AlertingExceptionCode } from '../alerting.exception';
import { type LinkPayload, openLink, SignedTokens } from '../links/signed-token';
import { type NotificationLinks } from '../notification';
import { type FeedbackLabel, isFeedbackLabel } from './feedback';

/** How long a link in an alert stays good. */
export const FEEDBACK_LINK_TTL_MS = 30 * 24 * 3_600_000;

/** What a feedback link's token says, once its signature checked out. */
export interface FeedbackClaim {
  readonly tenantId: TenantId;
  readonly anomalyId: string;
  readonly label: FeedbackLabel;
  /** Epoch milliseconds after which the link is refused (410). */
  readonly expiresAt: number;
}

/** The token's payload on the wire: short keys, a version for a later change of meaning. */
interface Payload extends LinkPayload {
  readonly a: string;
  readonly l: string;
}

/**
 * Signs and checks the tokens of feedback links (SignedTokens, purpose `feedback links v1`):
 * the tenant, the anomaly, the label and the expiry.
 */
export class FeedbackLinkSigner {
  private readonly tokens: SignedTokens;

  constructor(adminToken: string) {
    this.tokens = new SignedTokens(adminToken, 'feedback links v1');
  }

  sign(claim: Omit<FeedbackClaim, 'expiresAt'>, now = Date.now(), ttlMs = FEEDBACK_LINK_TTL_MS): string {
    const payload: Payload = { v: 1, t: claim.tenantId, a: claim.anomalyId, l: claim.label, e: now + ttlMs };
    return this.tokens.sign(payload);
  }

  /**
   * The claim of a genuine token; INVALID_FEEDBACK_TOKEN (401) for a malformed or tampered
   * one, EXPIRED_FEEDBACK_TOKEN (410) for a genuine one past its expiry.
   */
  verify(token: string, now = Date.now()): FeedbackClaim {
    const { payload, tenantId } = openLink<Payload>(
      this.tokens,
      token,
      now,
      (p) => typeof p.a === 'string' && isFeedbackLabel(p.l),
      {
        invalid: () =>
          new AlertingException(
            AlertingExceptionCode.INVALID_FEEDBACK_TOKEN,
            'the feedback link is not valid',
          ),
        expired: (at) =>
          new AlertingException(
            AlertingExceptionCode.EXPIRED_FEEDBACK_TOKEN,
            `the feedback link expired at ${new Date(at).toISOString()}`,
          ),
      },
    );
    return { tenantId, anomalyId: payload.a, label: payload.l as FeedbackLabel, expiresAt: payload.e };
  }
}

/**
 * The three links of an alert's feedback buttons (Notification.links.feedback), each to
 * `<publicUrl>/v1/feedback/<token>`: a page that asks to confirm, good for 30 days.
 */
export function feedbackLinks(
  tenant: TenantId,
  anomalyId: string,
  publicUrl: string,
  signer: FeedbackLinkSigner,
  now = Date.now(),
): NonNullable<NotificationLinks['feedback']> {
  const base = publicUrl.replace(/\/+$/, '');
  const link = (label: FeedbackLabel) =>
    `${base}/v1/feedback/${signer.sign({ tenantId: tenant, anomalyId, label }, now)}`;
  return {
    truePositive: link('true_positive'),
    falsePositive: link('false_positive'),
    expected: link('expected'),
  };
}
