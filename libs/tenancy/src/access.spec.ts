import {
  effectiveScopes,
  isRole,
  isScope,
  missingPermission,
  ROLE_SCOPES,
  roleAllows,
  type Scope,
  SCOPES,
} from './access';

describe('roles and scopes', () => {
  it('lets a member ingest and read, and an admin also administer', () => {
    expect(ROLE_SCOPES.member).toEqual(['ingest', 'read']);
    expect(ROLE_SCOPES.admin).toEqual(['ingest', 'read', 'admin']);
    expect(roleAllows('member', 'admin')).toBe(false);
    expect(roleAllows('admin', 'admin')).toBe(true);
  });

  it('knows its scopes and roles and nothing else', () => {
    expect(SCOPES.every(isScope)).toBe(true);
    expect(['Admin', 'write', '', undefined, 1].some(isScope)).toBe(false);
    expect(isRole('admin') && isRole('member')).toBe(true);
    expect(['owner', 'ADMIN', null].some(isRole)).toBe(false);
  });
});

describe('effectiveScopes', () => {
  it("is a service key's own scopes", () => {
    expect(effectiveScopes(['read', 'admin'], undefined)).toEqual(['read', 'admin']);
  });

  it("narrows a member's key to what the role allows", () => {
    expect(effectiveScopes(['ingest', 'read', 'admin'], 'member')).toEqual(['ingest', 'read']);
    expect(effectiveScopes(['admin'], 'member')).toEqual([]);
    expect(effectiveScopes(['read', 'admin'], 'admin')).toEqual(['read', 'admin']);
  });

  it('never widens a key beyond its scopes, whatever the role', () => {
    for (const role of ['admin', 'member'] as const) {
      expect(effectiveScopes(['read'], role)).toEqual(['read']);
    }
  });
});

describe('missingPermission', () => {
  it('allows what both the key and the role allow', () => {
    expect(missingPermission(['ingest'], undefined, 'ingest')).toBeUndefined();
    expect(missingPermission(['ingest', 'admin'], 'admin', 'admin')).toBeUndefined();
    expect(missingPermission(['read'], 'member', 'read')).toBeUndefined();
  });

  it('names the scope the key lacks', () => {
    expect(missingPermission(['ingest'], undefined, 'read')).toBe("this API key lacks the 'read' scope");
    expect(missingPermission(['read'], 'admin', 'admin')).toBe("this API key lacks the 'admin' scope");
  });

  it("names the role when the key has the scope but its member's role does not allow it", () => {
    expect(missingPermission(['read', 'admin'], 'member', 'admin')).toBe(
      "the 'admin' scope needs the admin role; this key's member has the role 'member'",
    );
  });

  it('agrees with effectiveScopes for every combination', () => {
    const subsets: Scope[][] = [
      [],
      ...SCOPES.map((s) => [s]),
      ['ingest', 'read'],
      ['read', 'admin'],
      [...SCOPES],
    ];
    for (const scopes of subsets) {
      for (const role of ['admin', 'member', undefined] as const) {
        for (const scope of SCOPES) {
          const allowed = effectiveScopes(scopes, role).includes(scope);
          expect([scopes, role, scope, missingPermission(scopes, role, scope) === undefined]).toEqual([
            scopes,
            role,
            scope,
            allowed,
          ]);
        }
      }
    }
  });
});
