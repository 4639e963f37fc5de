import { isScope, SCOPES, type Scope } from './access';
import { TenancyException, TenancyExceptionCode } from './tenancy.exception';
import { checkDisplayName, describeValue } from './tenant.validator';

export const MAX_API_KEY_NAME_LENGTH = 100;

/** What an admin gives to make a key: `memberId` absent for a service key. */
export interface NewApiKey {
  readonly name: string;
  readonly scopes: readonly Scope[];
  readonly memberId?: string;
}

/**
 * Checks a new key's name and scopes (the member is checked against the tenant by the
 * directory). Scopes come back deduplicated, in SCOPES order, so two keys with the same
 * rights always list them the same way.
 */
export function validateNewApiKey(input: NewApiKey): NewApiKey {
  const name = checkDisplayName(
    input.name,
    'name',
    MAX_API_KEY_NAME_LENGTH,
    TenancyExceptionCode.INVALID_API_KEY,
  );
  const scopes = checkScopes(input.scopes);
  if (input.memberId !== undefined && (typeof input.memberId !== 'string' || input.memberId === '')) {
    throw invalid('member_id', `member_id must be a member's id, got ${describeValue(input.memberId)}`);
  }
  return { name, scopes, ...(input.memberId !== undefined ? { memberId: input.memberId } : {}) };
}

export function checkScopes(scopes: unknown): Scope[] {
  if (!Array.isArray(scopes) || scopes.length === 0) {
    throw invalid(
      'scopes',
      `scopes must be a non-empty array of ${SCOPES.join(', ')}, got ${describeValue(scopes)}`,
    );
  }
  scopes.forEach((scope: unknown, index) => {
    if (!isScope(scope)) {
      throw invalid(
        `scopes[${index}]`,
        `scopes[${index}] must be one of ${SCOPES.join(', ')}, got ${describeValue(scope)}`,
      );
    }
  });
  return SCOPES.filter((scope) => scopes.includes(scope));
}

function invalid(field: string, message: string): TenancyException {
  return new TenancyException(TenancyExceptionCode.INVALID_API_KEY, message, field);
}
