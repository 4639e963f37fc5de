import { isRole, ROLES, type Role } from './access';
import { type NewMember } from './member';
import { TenancyException, TenancyExceptionCode } from './tenancy.exception';
import { describeValue } from './tenant.validator';

/** RFC 5321's limits: 254 characters in all (what fits a path), 64 before the @. */
export const MAX_EMAIL_LENGTH = 254;
export const MAX_EMAIL_LOCAL_LENGTH = 64;

// ASCII addresses as people type them: the dot-atom local part of RFC 5322 (no quoted
// strings, no comments) and a domain of DNS labels with at least one dot. Narrower
// than the RFCs on purpose: an address only a parser loves is more likely a typo than
// a person, and a refused address is named, so the admin can tell.
const LOCAL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * An email as members are stored and compared: trimmed and lowercase. Lowercasing the
 * local part is not what RFC 5321 promises, but no mail provider people use tells
 * Alice@ from alice@, and two members who differ only by case would be one person twice.
 */
export function normalizeEmail(email: unknown): string {
  if (typeof email !== 'string')
    throw invalid('email', `email must be a string, got ${describeValue(email)}`);
  const normalized = email.trim().toLowerCase();
  if (normalized.length === 0) throw invalid('email', 'email must not be empty');
  if (normalized.length > MAX_EMAIL_LENGTH) {
    throw invalid('email', `email must be at most ${MAX_EMAIL_LENGTH} characters, got ${normalized.length}`);
  }
  const at = normalized.lastIndexOf('@');
  const local = normalized.slice(0, at);
  const domain = normalized.slice(at + 1);
  const labels = domain.split('.');
  if (
    at <= 0 ||
    local.length > MAX_EMAIL_LOCAL_LENGTH ||
    !LOCAL.test(local) ||
    labels.length < 2 ||
    !labels.every((label) => LABEL.test(label))
  ) {
    throw invalid('email', `email must be an address like name@example.com, got ${describeValue(email)}`);
  }
  return normalized;
}

export function checkRole(role: unknown): Role {
  if (!isRole(role))
    throw invalid('role', `role must be one of ${ROLES.join(', ')}, got ${describeValue(role)}`);
  return role;
}

/** Checks and normalizes what an admin asked for; the first field at fault is named. */
export function validateNewMember(input: NewMember): NewMember {
  return { email: normalizeEmail(input.email), role: checkRole(input.role) };
}

function invalid(field: string, message: string): TenancyException {
  return new TenancyException(TenancyExceptionCode.INVALID_MEMBER, message, field);
}
