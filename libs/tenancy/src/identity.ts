import { type Actor } from './audit';
import { missingPermission, type Scope } from './access';
import { type Member } from './member';
import { TenancyException, TenancyExceptionCode } from './tenancy.exception';
import { type Tenant } from './tenant';
import { type ApiKeyInfo } from './tenant.repository';

/** Who a valid API key speaks for: its tenant, the key, and the member it belongs to (if any). */
export interface KeyIdentity {
  readonly tenant: Tenant;
  readonly key: ApiKeyInfo;
  /** Absent for a service key. */
  readonly member?: Member;
}

/**
 * Throws FORBIDDEN, naming the missing scope or role, unless the key may act with
 * `scope`. The key's scopes are intersected with its member's role at every check, so a
 * demotion takes effect on the next request, without rewriting any key.
 */
export function requireScope(identity: KeyIdentity, scope: Scope): void {
  const missing = missingPermission(identity.key.scopes, identity.member?.role, scope);
  if (missing !== undefined) throw new TenancyException(TenancyExceptionCode.FORBIDDEN, missing);
}

/** The actor the audit log records for what a key does. */
export function actorOf(identity: KeyIdentity): Actor {
  return identity.member
    ? { kind: 'member', memberId: identity.member.id, keyId: identity.key.id }
    : { kind: 'service-key', keyId: identity.key.id };
}
