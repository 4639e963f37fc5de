/**
 * What a caller may do inside a tenant. A key carries scopes; a person carries a role;
 * a person's key may do only what both allow, so demoting or removing someone takes
 * effect on every key they hold without touching the keys.
 */

/** The scopes an API key may carry, in the order they are listed everywhere. */
export const SCOPES = ['ingest', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * A member's role. `member`: ingest and read. `admin`: also keys, members, roles and the
 * tenant's settings (and whatever later admin features need: subscriptions, billing,
 * export, erasure ask for the `admin` scope).
 */
export const ROLES = ['admin', 'member'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_SCOPES: Readonly<Record<Role, readonly Scope[]>> = {
  admin: SCOPES,
  member: ['ingest', 'read'],
};

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value);
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function roleAllows(role: Role, scope: Scope): boolean {
  return ROLE_SCOPES[role].includes(scope);
}

/**
 * Why a key may not act with `scope`, or undefined when it may. A service key (no role)
 * is bounded by its scopes alone. The answer names what is missing, the key's scope
 * first: that is the one its holder can fix by asking for another key.
 */
export function missingPermission(
  keyScopes: readonly Scope[],
  role: Role | undefined,
  scope: Scope,
): string | undefined {
  if (!keyScopes.includes(scope)) return `this API key lacks the '${scope}' scope`;
  if (role !== undefined && !roleAllows(role, scope)) {
    return `the '${scope}' scope needs the admin role; this key's member has the role '${role}'`;
  }
  return undefined;
}

/** The scopes a key may use now: its own, narrowed by its member's role. */
export function effectiveScopes(keyScopes: readonly Scope[], role: Role | undefined): Scope[] {
  return keyScopes.filter((scope) => role === undefined || roleAllows(role, scope));
}
