import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseTenantId, type TenantId } from '@seismo/storage';
import { AlertingException, AlertingExceptionCode } from '../alerting.exception';
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
interface Payload {
  v: 1;
  t: string;
  a: string;
  l: string;
  e: number;
}

/**
 * Signs and checks the tokens of feedback links: `<payload>.<signature>`, both base64url, the
 * payload JSON and the signature HMAC-SHA256 over it. The key is derived from the deployment's
 * admin token, so every API process of the deployment agrees without new configuration, and
 * a changed admin token voids every link out there, as it should.
 */
export class FeedbackLinkSigner {
  private readonly key: Buffer;

  constructor(adminToken: string) {
    if (typeof adminToken !== 'string' || adminToken.length === 0) {
      throw new RangeError('a feedback link signer needs the deployment admin token');
    }
    // A key of its own, not the token: a leaked link's signature tells nothing of the token.
    this.key = createHmac('sha256', adminToken).update('seismo feedback links v1').digest();
  }

  sign(claim: Omit<FeedbackClaim, 'expiresAt'>, now = Date.now(), ttlMs = FEEDBACK_LINK_TTL_MS): string {
    const payload: Payload = { v: 1, t: claim.tenantId, a: claim.anomalyId, l: claim.label, e: now + ttlMs };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${this.mac(body).toString('base64url')}`;
  }

  /**
   * The claim of a genuine token; INVALID_FEEDBACK_TOKEN (401) for a malformed or tampered
   * one, EXPIRED_FEEDBACK_TOKEN (410) for a genuine one past its expiry.
   */
  verify(token: string, now = Date.now()): FeedbackClaim {
    const invalid = () =>
      new AlertingException(AlertingExceptionCode.INVALID_FEEDBACK_TOKEN, 'the feedback link is not valid');
    if (typeof token !== 'string' || token.length > 2048) throw invalid();
    const [body, signature, ...rest] = token.split('.');
    if (!body || !signature || rest.length > 0) throw invalid();
    const expected = this.mac(body);
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    let payload: Payload;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Payload;
    } catch {
      throw invalid();
    }
    // Signed by us, so well-formed unless a later version wrote it.
    if (
      payload?.v !== 1 ||
      typeof payload.a !== 'string' ||
      !isFeedbackLabel(payload.l) ||
      !Number.isFinite(payload.e)
    ) {
      throw invalid();
    }
    let tenantId: TenantId;
    try {
      tenantId = parseTenantId(payload.t);
    } catch {
      throw invalid();
    }
    if (now > payload.e) {
      throw new AlertingException(
        AlertingExceptionCode.EXPIRED_FEEDBACK_TOKEN,
        `the feedback link expired at ${new Date(payload.e).toISOString()}`,
      );
    }
    return { tenantId, anomalyId: payload.a, label: payload.l, expiresAt: payload.e };
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.key).update(body).digest();
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
