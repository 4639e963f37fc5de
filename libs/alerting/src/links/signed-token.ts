import { parseTenantId, type TenantId } from '@seismo/storage';
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Longest token taken (a chart link names a series key of up to 4096 characters): anything longer is not one of ours. */
const MAX_TOKEN_LENGTH = 8192;

/**
 * The tokens of the links in alerts: `<payload>.<signature>`, both base64url, the payload
 * JSON and the signature HMAC-SHA256 over it. The key is derived from the deployment's admin
 * token and the links' purpose, so every API process of the deployment agrees without new
 * configuration, a token of one purpose is refused by the others, and a changed admin token
 * voids every link out there, as it should.
 */
export class SignedTokens {
  private readonly key: Buffer;

  /** `purpose` names the links' kind and version, e.g. `feedback links v1`. */
  constructor(adminToken: string, purpose: string) {
    if (typeof adminToken !== 'string' || adminToken.length === 0) {
      throw new RangeError(`signing ${purpose} needs the deployment admin token`);
    }
    // A key of its own, not the token: a leaked link's signature tells nothing of the token.
    this.key = createHmac('sha256', adminToken).update(`seismo ${purpose}`).digest();
  }

  sign(payload: object): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${this.mac(body).toString('base64url')}`;
  }

  /** The payload of a genuine token; undefined for a malformed or tampered one. */
  open(token: unknown): unknown {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return undefined;
    const [body, signature, ...rest] = token.split('.');
    if (!body || !signature || rest.length > 0) return undefined;
    const expected = this.mac(body);
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.key).update(body).digest();
  }
}

/** What every link's token holds besides its own fields: a version, the tenant and the expiry. */
export interface LinkPayload {
  readonly v: 1;
  readonly t: string;
  readonly e: number;
}

/** How a kind of link refuses a token: its 401 and its 410. */
export interface LinkRefusals {
  readonly invalid: () => Error;
  readonly expired: (expiresAt: number) => Error;
}

/**
 * The payload of a genuine link token, with its tenant: `invalid` for a malformed,
 * tampered or ill-formed one (`wellFormed` checks the kind's own fields; a later version's
 * token is refused too), `expired` for a genuine one past its expiry.
 */
export function openLink<P extends LinkPayload>(
  tokens: SignedTokens,
  token: string,
  now: number,
  wellFormed: (payload: P) => boolean,
  refusals: LinkRefusals,
): { readonly payload: P; readonly tenantId: TenantId } {
  const payload = tokens.open(token) as P | undefined;
  if (payload?.v !== 1 || !Number.isFinite(payload.e) || !wellFormed(payload)) throw refusals.invalid();
  let tenantId: TenantId;
  try {
    tenantId = parseTenantId(payload.t);
  } catch {
    throw refusals.invalid();
  }
  if (now > payload.e) throw refusals.expired(payload.e);
  return { payload, tenantId };
}
