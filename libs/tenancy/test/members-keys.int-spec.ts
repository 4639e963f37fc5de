import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultMigrationsDir, parseTenantId, type TenantId } from '@seismo/storage';
import { splitSqlStatements } from '@seismo/storage/sql-script';
import { generateApiKey, hashApiKey, legacyApiKeyId } from '../src/api-key';
import { type AuditContext, DEPLOYMENT_ADMIN } from '../src/audit';
import { actorOf, requireScope } from '../src/identity';
import { TenancyException, TenancyExceptionCode } from '../src/tenancy.exception';
import { DEFAULT_TENANT_LLM, type ExpectedPolicy } from '../src/tenant';
import { type TenantDirectory } from '../src/tenant.directory';
import { useTenancyStorage } from './tenancy.harness';

const ADMIN: AuditContext = { actor: DEPLOYMENT_ADMIN, sourceIp: '10.0.0.1' };

const storage = useTenancyStorage();
const directory = (options: { usageFlushMs?: number } = {}) => storage.directory(options);

async function failure(promise: Promise<unknown>): Promise<TenancyException> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TenancyException);
  return error as TenancyException;
}

/** A tenant with a first admin, and the audit context of that admin's key. */
async function tenantWithAdmin(tenants: TenantDirectory, email = 'Root@Example.com') {
  const created = await tenants.create({ name: 'Acme', adminEmail: email }, ADMIN);
  const identity = tenants.identify(created.apiKey)!;
  const by: AuditContext = { actor: actorOf(identity), sourceIp: '192.0.2.7' };
  return { ...created, tenantId: created.tenant.id, by };
}

describe('TenantDirectory: the first key', () => {
  it("belongs to the first admin when an email is given, with every scope, and is that admin's", async () => {
    const tenants = await directory();
    const { tenant, apiKey, key, admin } = await tenants.create(
      { name: 'Acme', adminEmail: ' Root@Example.com ' },
      ADMIN,
    );
    expect(admin).toMatchObject({ email: 'root@example.com', role: 'admin', tenantId: tenant.id });
    expect(key).toMatchObject({
      scopes: ['ingest', 'read', 'admin'],
      memberId: admin!.id,
      tenantId: tenant.id,
    });
    const identity = tenants.identify(apiKey)!;
    expect(identity.member).toEqual(admin);
    expect(() => requireScope(identity, 'admin')).not.toThrow();
    expect(tenants.membersOf(tenant.id)).toEqual([admin]);
  });

  it('is a service key with every scope without an email', async () => {
    const tenants = await directory();
    const { tenant, apiKey, key, admin } = await tenants.create({ name: 'Acme' }, ADMIN);
    expect(admin).toBeUndefined();
    expect(key.memberId).toBeUndefined();
    expect(key.scopes).toEqual(['ingest', 'read', 'admin']);
    expect(tenants.identify(apiKey)).toMatchObject({ tenant, key: { id: key.id } });
    expect(tenants.membersOf(tenant.id)).toEqual([]);
  });

  it('refuses a bad admin email before storing anything', async () => {
    const tenants = await directory();
    const before = await storage.clickhouse().rows('SELECT count() AS n FROM tenants');
    const error = await failure(tenants.create({ name: 'Acme', adminEmail: 'root' }, ADMIN));
    expect(error.code).toBe(TenancyExceptionCode.INVALID_MEMBER);
    expect(error.field).toBe('adminEmail');
    expect(error.message).toMatch(/^adminEmail must be an address/);
    expect(await storage.clickhouse().rows('SELECT count() AS n FROM tenants')).toEqual(before);
  });
});

describe('TenantDirectory: members', () => {
  it('adds, lists, changes and removes members, and another process sees each change after a reload', async () => {
    const tenants = await directory();
    const other = await directory();
    const { tenantId, admin, by } = await tenantWithAdmin(tenants);

    const bob = await tenants.addMember(tenantId, { email: 'BOB@example.com', role: 'member' }, by);
    expect(bob).toMatchObject({ email: 'bob@example.com', role: 'member', tenantId });
    expect(tenants.membersOf(tenantId).map((m) => m.email)).toEqual(['root@example.com', 'bob@example.com']);

    await other.reload();
    expect(other.membersOf(tenantId)).toEqual(tenants.membersOf(tenantId));

    const promoted = await tenants.changeRole(tenantId, bob.id, 'admin', by);
    expect(promoted).toEqual({ ...bob, role: 'admin' });
    await other.reload();
    expect(other.membersOf(tenantId).find((m) => m.id === bob.id)?.role).toBe('admin');

    await tenants.removeMember(tenantId, bob.id, by);
    expect(tenants.membersOf(tenantId)).toEqual([admin]);
    await other.reload();
    expect(other.membersOf(tenantId)).toEqual([admin]);
  });

  it('refuses a second member with the same email, in any case, even one another process added', async () => {
    const tenants = await directory();
    const { tenantId, by } = await tenantWithAdmin(tenants);
    const other = await directory();
    await other.addMember(tenantId, { email: 'carol@example.com', role: 'member' }, by);

    const error = await failure(
      tenants.addMember(tenantId, { email: 'Carol@Example.com', role: 'admin' }, by),
    );
    expect(error.code).toBe(TenancyExceptionCode.MEMBER_EXISTS);
    expect(error.field).toBe('email');
  });

  it('keeps a tenant with admin members from losing its last one', async () => {
    const tenants = await directory();
    const { tenantId, admin, by } = await tenantWithAdmin(tenants);
    for (const attempt of [
      tenants.changeRole(tenantId, admin!.id, 'member', by),
      tenants.removeMember(tenantId, admin!.id, by),
    ]) {
      const error = await failure(attempt);
      expect(error.code).toBe(TenancyExceptionCode.LAST_ADMIN);
      expect(error.message).toContain('root@example.com');
    }
    const second = await tenants.addMember(tenantId, { email: 'second@example.com', role: 'admin' }, by);
    await tenants.changeRole(tenantId, admin!.id, 'member', by);
    expect((await failure(tenants.removeMember(tenantId, second.id, by))).code).toBe(
      TenancyExceptionCode.LAST_ADMIN,
    );
    expect(tenants.membersOf(tenantId).map((m) => [m.email, m.role])).toEqual([
      ['root@example.com', 'member'],
      ['second@example.com', 'admin'],
    ]);
  });

  it("knows only its own tenant's members", async () => {
    const tenants = await directory();
    const a = await tenantWithAdmin(tenants, 'a@example.com');
    const b = await tenantWithAdmin(tenants, 'b@example.com');
    expect(tenants.membersOf(a.tenantId).map((m) => m.email)).toEqual(['a@example.com']);

    for (const attempt of [
      tenants.changeRole(a.tenantId, b.admin!.id, 'member', a.by),
      tenants.removeMember(a.tenantId, b.admin!.id, a.by),
    ]) {
      expect((await failure(attempt)).code).toBe(TenancyExceptionCode.UNKNOWN_MEMBER);
    }
    expect(tenants.membersOf(b.tenantId)).toEqual([b.admin]);
    expect(tenants.identify(b.apiKey)?.member?.role).toBe('admin');
  });

  it("narrows a member's keys at once when demoted, and stops them at once when removed", async () => {
    const tenants = await directory();
    const { tenantId, by } = await tenantWithAdmin(tenants);
    const dana = await tenants.addMember(tenantId, { email: 'dana@example.com', role: 'admin' }, by);
    const { apiKey, key } = await tenants.createKey(
      tenantId,
      { name: 'dana laptop', scopes: ['read', 'admin'], memberId: dana.id },
      by,
    );
    expect(() => requireScope(tenants.identify(apiKey)!, 'admin')).not.toThrow();

    await tenants.changeRole(tenantId, dana.id, 'member', by);
    const demoted = tenants.identify(apiKey)!;
    expect(() => requireScope(demoted, 'read')).not.toThrow();
    const refused = (() => {
      try {
        requireScope(demoted, 'admin');
      } catch (e) {
        return e as TenancyException;
      }
    })();
    expect(refused?.code).toBe(TenancyExceptionCode.FORBIDDEN);
    expect(refused?.message).toContain("role 'member'");

    await tenants.removeMember(tenantId, dana.id, by);
    expect(tenants.identify(apiKey)).toBeUndefined();
    expect(tenants.keysOf(tenantId).map((k) => k.id)).not.toContain(key.id);
    // Revoked in the table too, so a directory that never saw the removal refuses the key.
    const fresh = await directory();
    expect(fresh.identify(apiKey)).toBeUndefined();
    expect(
      await storage
        .clickhouse()
        .rows<{ revoked: number }>('SELECT revoked FROM api_keys FINAL WHERE id = {id:String}', {
          id: key.id,
        }),
    ).toEqual([{ revoked: 1 }]);
  });
});

describe('TenantDirectory: keys', () => {
  it('makes keys shown once, lists them without secrets, and revokes them by id, here at once and elsewhere after a reload', async () => {
    const tenants = await directory();
    const other = await directory();
    const { tenantId, key: first, by } = await tenantWithAdmin(tenants);
    const made = await tenants.createKey(tenantId, { name: 'telegraf', scopes: ['ingest'] }, by);
    expect(made.key).toMatchObject({ name: 'telegraf', scopes: ['ingest'], tenantId });
    expect(made.key.memberId).toBeUndefined();
    expect(made.key.id).toMatch(/^key_/);

    // Two keys active at once: rotation.
    expect(tenants.keysOf(tenantId).map((k) => k.id)).toEqual([first.id, made.key.id]);
    expect(JSON.stringify(tenants.keysOf(tenantId))).not.toContain(made.apiKey);
    expect(JSON.stringify(tenants.keysOf(tenantId))).not.toContain(hashApiKey(made.apiKey));
    await other.reload();
    expect(other.identify(made.apiKey)?.key.id).toBe(made.key.id);

    await tenants.revokeKey(tenantId, made.key.id, by);
    expect(tenants.identify(made.apiKey)).toBeUndefined();
    expect(tenants.keysOf(tenantId).map((k) => k.id)).toEqual([first.id]);
    expect(other.identify(made.apiKey)).toBeDefined();
    await other.reload();
    expect(other.identify(made.apiKey)).toBeUndefined();

    expect((await failure(tenants.revokeKey(tenantId, made.key.id, by))).code).toBe(
      TenancyExceptionCode.UNKNOWN_API_KEY,
    );
  });

  it("revokes a key another process made moments ago, and never another tenant's key", async () => {
    const tenants = await directory();
    const other = await directory();
    const a = await tenantWithAdmin(tenants, 'a@example.com');
    const b = await tenantWithAdmin(tenants, 'b@example.com');
    const elsewhere = await other.createKey(a.tenantId, { name: 'made elsewhere', scopes: ['read'] }, a.by);
    await tenants.revokeKey(a.tenantId, elsewhere.key.id, a.by);

    expect((await failure(tenants.revokeKey(a.tenantId, b.key.id, a.by))).code).toBe(
      TenancyExceptionCode.UNKNOWN_API_KEY,
    );
    expect(tenants.identify(b.apiKey)?.tenant.id).toBe(b.tenantId);
  });

  it("refuses a member's key beyond the member's role, and a member of another tenant", async () => {
    const tenants = await directory();
    const a = await tenantWithAdmin(tenants, 'a@example.com');
    const b = await tenantWithAdmin(tenants, 'b@example.com');
    const erin = await tenants.addMember(a.tenantId, { email: 'erin@example.com', role: 'member' }, a.by);

    const beyond = await failure(
      tenants.createKey(a.tenantId, { name: 'k', scopes: ['read', 'admin'], memberId: erin.id }, a.by),
    );
    expect([beyond.code, beyond.field]).toEqual([TenancyExceptionCode.INVALID_API_KEY, 'scopes']);
    expect(beyond.message).toContain("does not allow the 'admin' scope");

    const foreign = await failure(
      tenants.createKey(a.tenantId, { name: 'k', scopes: ['read'], memberId: b.admin!.id }, a.by),
    );
    expect([foreign.code, foreign.field]).toEqual([TenancyExceptionCode.INVALID_API_KEY, 'member_id']);
  });

  it('stores when keys were last used in one write per flush, and loads it back', async () => {
    const tenants = await directory();
    const { tenantId, apiKey, key } = await tenantWithAdmin(tenants);
    const count = async () =>
      Number((await storage.clickhouse().rows<{ n: string }>('SELECT count() AS n FROM api_key_usage'))[0].n);
    const before = await count();

    const start = Date.now();
    for (let i = 0; i < 50; i++) tenants.identify(apiKey);
    const seen = tenants.keysOf(tenantId).find((k) => k.id === key.id)!.lastUsedAt!;
    expect(seen).toBeGreaterThanOrEqual(start);
    expect(await count()).toBe(before);

    await tenants.flushUsage();
    expect(await count()).toBe(before + 1);
    await tenants.flushUsage();
    expect(await count()).toBe(before + 1);

    const later = await directory();
    expect(later.keysOf(tenantId).find((k) => k.id === key.id)?.lastUsedAt).toBe(seen);
  });

  it('flushes last uses on its own every usageFlushMs', async () => {
    const tenants = await directory({ usageFlushMs: 50 });
    const { apiKey, key } = await tenantWithAdmin(tenants);
    tenants.identify(apiKey);
    const deadline = Date.now() + 5000;
    const stored = () =>
      storage
        .clickhouse()
        .rows('SELECT key_id FROM api_key_usage WHERE key_id = {id:String}', { id: key.id });
    while ((await stored()).length === 0) {
      if (Date.now() > deadline) throw new Error('the last use was never stored');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  it('keeps keys made before migration 0005 working with every scope, as service keys with a derived id', async () => {
    const tenants = await directory();
    const { tenant } = await tenants.create({ name: 'Old' }, ADMIN);
    const legacyKey = generateApiKey();
    // The row as the code before 0005 wrote it: the new columns take their defaults.
    await storage.clickhouse().command(
      `INSERT INTO api_keys (key_hash, tenant_id, created_at, revoked, version)
       VALUES ({hash:String}, {tenant:String}, now64(3), 0, 1)`,
      { hash: hashApiKey(legacyKey), tenant: tenant.id },
    );
    await tenants.reload();
    const identity = tenants.identify(legacyKey)!;
    expect(identity.key).toMatchObject({
      id: legacyApiKeyId(hashApiKey(legacyKey)),
      scopes: ['ingest', 'read', 'admin'],
      name: '',
    });
    expect(identity.member).toBeUndefined();
    await tenants.revokeKey(tenant.id, identity.key.id, ADMIN);
    expect(tenants.identify(legacyKey)).toBeUndefined();
  });
});

describe('TenantDirectory: tenant settings and the audit log', () => {
  it('changes a tenant, keeping what was not given, for this and other processes', async () => {
    const tenants = await directory();
    const { tenantId, by } = await tenantWithAdmin(tenants);
    const changed = await tenants.updateTenant(tenantId, { pointsDays: 7, zeroRetention: true }, by);
    expect(changed).toEqual({
      id: tenantId,
      name: 'Acme',
      pointsDays: 7,
      anomaliesDays: 395,
      zeroRetention: true,
      plan: 'team',
      limitOverrides: {},
      llm: DEFAULT_TENANT_LLM,
    });
    expect(tenants.retentionOf(tenantId)).toEqual({ pointsDays: 0, anomaliesDays: 395 });
    const later = await directory();
    expect(later.get(tenantId)).toEqual(changed);

    const error = await failure(tenants.updateTenant(tenantId, { anomaliesDays: 0 }, by));
    expect([error.code, error.field]).toEqual([TenancyExceptionCode.INVALID_TENANT, 'anomaliesDays']);
    expect((await failure(tenants.updateTenant(parseTenantId('nobody'), { pointsDays: 2 }, by))).code).toBe(
      TenancyExceptionCode.UNKNOWN_TENANT,
    );
  });

  it('keeps LLM settings merged change by change, audited, for a directory opened later', async () => {
    const tenants = await directory();
    const { tenantId, by } = await tenantWithAdmin(tenants);
    expect(tenants.get(tenantId)!.llm).toEqual(DEFAULT_TENANT_LLM);

    const on = await tenants.updateTenant(
      tenantId,
      { llm: { triage: true, dailyTokens: 5000, redactLabels: ['customer_*'] } },
      ADMIN,
    );
    expect(on.llm).toEqual({
      triage: true,
      dailyTokens: 5000,
      expectedPolicy: 'downgrade',
      redactLabels: ['customer_*'],
      profiling: true,
    });
    const merged = await tenants.updateTenant(
      tenantId,
      { llm: { expectedPolicy: 'suppress', dailyTokens: null } },
      ADMIN,
    );
    const settings = {
      triage: true,
      expectedPolicy: 'suppress',
      redactLabels: ['customer_*'],
      profiling: true,
    };
    expect(merged.llm).toEqual(settings);
    // Other changes leave them as they are.
    expect((await tenants.updateTenant(tenantId, { name: 'Acme Two' }, by)).llm).toEqual(settings);
    const refused = await failure(
      tenants.updateTenant(tenantId, { llm: { expectedPolicy: 'ignore' as ExpectedPolicy } }, ADMIN),
    );
    expect([refused.code, refused.field]).toEqual([
      TenancyExceptionCode.INVALID_TENANT,
      'llm.expectedPolicy',
    ]);
    expect(tenants.get(tenantId)!.llm).toEqual(settings);

    const later = await directory();
    expect(later.get(tenantId)).toEqual({ ...merged, name: 'Acme Two' });
    const [row] = await storage
      .clickhouse()
      .rows<{ llm: string }>('SELECT llm FROM tenants FINAL WHERE id = {id:String}', { id: tenantId });
    expect(JSON.parse(row.llm)).toEqual(settings);

    const updates = await tenants.auditLog.find(tenantId, { limit: 100, action: 'tenant.updated' });
    expect(updates.map((e) => e.details.changes)).toEqual([
      { name: { from: 'Acme', to: 'Acme Two' } },
      {
        'llm.daily_tokens': { from: 5000, to: null },
        'llm.expected_policy': { from: 'downgrade', to: 'suppress' },
      },
      {
        'llm.triage': { from: false, to: true },
        'llm.daily_tokens': { from: null, to: 5000 },
        'llm.redact_labels': { from: [], to: ['customer_*'] },
      },
    ]);
    const [created] = await tenants.auditLog.find(tenantId, { limit: 1, action: 'tenant.created' });
    expect(created.details.llm).toEqual({
      triage: false,
      daily_tokens: null,
      expected_policy: 'downgrade',
      redact_labels: [],
      profiling: true,
    });
  });

  it('reads a tenant stored before migration 0015 with the default LLM settings, and runs 0015 twice', async () => {
    const id = parseTenantId('before-llm');
    await storage
      .clickhouse()
      .command(
        `INSERT INTO tenants (id, name, created_at, version) VALUES ({id:String}, 'Old', now64(3), 1)`,
        { id },
      );
    const sql = readFileSync(join(defaultMigrationsDir(), '0015_tenant_llm.sql'), 'utf8');
    for (const statement of splitSqlStatements(sql)) await storage.clickhouse().command(statement);
    const tenants = await directory();
    expect(tenants.get(id)?.llm).toEqual(DEFAULT_TENANT_LLM);
    const on = await tenants.updateTenant(id, { llm: { triage: true } }, ADMIN);
    expect(on.llm).toEqual({ ...DEFAULT_TENANT_LLM, triage: true });
  });

  it('records every admin action with its actor, target and source, per tenant, newest first', async () => {
    const tenants = await directory();
    const a = await tenantWithAdmin(tenants, 'a@example.com');
    const b = await tenantWithAdmin(tenants, 'b@example.com');
    const fay = await tenants.addMember(a.tenantId, { email: 'fay@example.com', role: 'member' }, a.by);
    await tenants.changeRole(a.tenantId, fay.id, 'admin', a.by);
    const key = await tenants.createKey(a.tenantId, { name: 'ci', scopes: ['ingest'] }, a.by);
    await tenants.revokeKey(a.tenantId, key.key.id, a.by);
    await tenants.removeMember(a.tenantId, fay.id, a.by);
    await tenants.updateTenant(a.tenantId, { name: 'Acme Two' }, ADMIN);

    const entries = await tenants.auditLog.find(a.tenantId, { limit: 100 });
    expect(entries.map((e) => [e.action, e.target])).toEqual(
      [
        ['tenant.created', a.tenantId],
        ['member.added', a.admin!.id],
        ['key.created', a.key.id],
        ['member.added', fay.id],
        ['member.role_changed', fay.id],
        ['key.created', key.key.id],
        ['key.revoked', key.key.id],
        ['member.removed', fay.id],
        ['tenant.updated', a.tenantId],
      ].reverse(),
    );
    const byAdminKey = entries.find((e) => e.action === 'member.role_changed')!;
    expect(byAdminKey).toMatchObject({
      tenantId: a.tenantId,
      actor: { kind: 'member', memberId: a.admin!.id, keyId: a.key.id },
      sourceIp: '192.0.2.7',
      details: { email: 'fay@example.com', from: 'member', to: 'admin' },
    });
    expect(entries[0]).toMatchObject({
      actor: { kind: 'deployment-admin' },
      sourceIp: '10.0.0.1',
      details: { changes: { name: { from: 'Acme', to: 'Acme Two' } } },
    });
    // No secret in the log: neither the key nor its hash.
    expect(JSON.stringify(entries)).not.toContain(key.apiKey);
    expect(JSON.stringify(entries)).not.toContain(hashApiKey(key.apiKey));

    const bEntries = await tenants.auditLog.find(b.tenantId, { limit: 100 });
    expect(bEntries.map((e) => e.action)).toEqual(['key.created', 'member.added', 'tenant.created']);

    const revoked = await tenants.auditLog.find(a.tenantId, { limit: 100, action: 'key.revoked' });
    expect(revoked.map((e) => e.target)).toEqual([key.key.id]);
    const last = entries[0].at;
    expect(await tenants.auditLog.find(a.tenantId, { limit: 100, from: last + 1 })).toEqual([]);
    expect((await tenants.auditLog.find(a.tenantId, { limit: 100, to: last })).length).toBeLessThan(
      entries.length,
    );
    expect(await tenants.auditLog.find(a.tenantId, { limit: 2 })).toHaveLength(2);
  });

  it('records nothing for a change it refused', async () => {
    const tenants = await directory();
    const { tenantId, by } = await tenantWithAdmin(tenants);
    const before = await tenants.auditLog.find(tenantId, { limit: 100 });
    await failure(tenants.addMember(tenantId, { email: 'root@example.com', role: 'member' }, by));
    await failure(tenants.createKey(tenantId, { name: '', scopes: ['read'] }, by));
    expect(await tenants.auditLog.find(tenantId, { limit: 100 })).toEqual(before);
  });
});

it("runs migration 0005's statements a second time without harm", async () => {
  const sql = readFileSync(join(defaultMigrationsDir(), '0005_members_keys_audit.sql'), 'utf8');
  const tenants = await directory();
  const { tenantId, apiKey } = await tenantWithAdmin(tenants);
  for (const statement of splitSqlStatements(sql)) await storage.clickhouse().command(statement);
  await tenants.reload();
  expect(tenants.identify(apiKey)?.tenant.id).toBe(tenantId as TenantId);
  expect(tenants.membersOf(tenantId)).toHaveLength(1);
});
