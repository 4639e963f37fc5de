import { startTestServer, type TestServer } from './embedded-server.harness';

const ADMIN = 'access-admin-token-0123456789';

interface Answer<T> {
  status: number;
  body: T;
}

interface KeyBody {
  id: string;
  name: string;
  scopes: string[];
  member_id?: string;
  created_at: string;
  last_used_at?: string;
  api_key?: string;
}

interface AuditBody {
  entries: Array<{
    id: string;
    at: string;
    actor: { type: string; member_id?: string; key_id?: string };
    action: string;
    target: string;
    source_ip: string;
    details: Record<string, unknown>;
  }>;
}

type Body = Record<string, unknown>;

/** Members, keys, rotation, tenant settings and the audit log over HTTP, as a tenant admin uses them. */
describe('members, API keys and the audit log (real embedded server)', () => {
  let server: TestServer;

  const call = async <T = Body>(
    method: string,
    path: string,
    token?: string,
    body?: unknown,
  ): Promise<Answer<T>> => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };

  beforeAll(async () => {
    server = await startTestServer({ SEISMO_ADMIN_TOKEN: ADMIN });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it("makes the first key its first admin's when admin_email is given, and a service key otherwise", async () => {
    const withAdmin = await call<{ id: string; api_key: string; key_id: string; admin_member_id: string }>(
      'POST',
      '/v1/tenants',
      ADMIN,
      { name: 'acme', admin_email: 'Root@Acme.example' },
    );
    expect(withAdmin.status).toBe(201);
    const members = await call<{ members: Body[] }>('GET', '/v1/members', withAdmin.body.api_key);
    expect(members.body.members).toEqual([
      {
        id: withAdmin.body.admin_member_id,
        email: 'root@acme.example',
        role: 'admin',
        created_at: expect.any(String),
      },
    ]);
    const keys = await call<{ keys: KeyBody[] }>('GET', '/v1/keys', withAdmin.body.api_key);
    expect(keys.body.keys).toEqual([
      expect.objectContaining({
        id: withAdmin.body.key_id,
        scopes: ['ingest', 'read', 'admin'],
        member_id: withAdmin.body.admin_member_id,
      }),
    ]);
    expect(JSON.stringify(keys.body)).not.toContain(withAdmin.body.api_key);

    const service = await call<{ api_key: string; key_id: string }>('POST', '/v1/tenants', ADMIN, {
      name: 'svc',
    });
    const serviceKeys = await call<{ keys: KeyBody[] }>('GET', '/v1/keys', service.body.api_key);
    expect(serviceKeys.body.keys).toEqual([
      expect.objectContaining({ id: service.body.key_id, scopes: ['ingest', 'read', 'admin'] }),
    ]);
    expect(serviceKeys.body.keys[0].member_id).toBeUndefined();

    const bad = await call<{ field: string; code: string }>('POST', '/v1/tenants', ADMIN, {
      name: 'bad',
      admin_email: 'nobody',
    });
    expect([bad.status, bad.body.code, bad.body.field]).toEqual([400, 'INVALID_MEMBER', 'adminEmail']);
  });

  it('rotates a key: a new one works alongside the old, the old stops once revoked', async () => {
    const tenant = await call<{ api_key: string; key_id: string }>('POST', '/v1/tenants', ADMIN, {
      name: 'rotating',
    });
    const old = tenant.body.api_key;
    const made = await call<KeyBody>('POST', '/v1/keys', old, {
      name: 'next',
      scopes: ['ingest', 'read', 'admin'],
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ name: 'next', scopes: ['ingest', 'read', 'admin'] });
    expect(made.body.api_key).toMatch(/^sk_/);
    const next = made.body.api_key!;

    expect((await call('GET', '/v1/series', old)).status).toBe(200);
    expect((await call('GET', '/v1/series', next)).status).toBe(200);
    // Both were just used; the listing says so, without waiting for the minute's write.
    const listed = await call<{ keys: KeyBody[] }>('GET', '/v1/keys', next);
    expect(listed.body.keys.map((k) => k.id)).toEqual([tenant.body.key_id, made.body.id]);
    for (const key of listed.body.keys)
      expect(Date.parse(key.last_used_at!)).toBeGreaterThan(Date.now() - 60_000);

    expect((await call('DELETE', `/v1/keys/${tenant.body.key_id}`, next)).status).toBe(204);
    const refused = await call<{ error: string }>('GET', '/v1/series', old);
    expect([refused.status, refused.body.error]).toEqual([401, 'the API key is not valid']);
    expect((await call('GET', '/v1/series', next)).status).toBe(200);
    const again = await call<{ code: string }>('DELETE', `/v1/keys/${tenant.body.key_id}`, next);
    expect([again.status, again.body.code]).toEqual([404, 'UNKNOWN_API_KEY']);
  });

  it("bounds a member's keys by their role, now and after a change of role, and ends them with the member", async () => {
    const root = await call<{ api_key: string; admin_member_id: string }>('POST', '/v1/tenants', ADMIN, {
      name: 'roles',
      admin_email: 'root@roles.example',
    });
    const admin = root.body.api_key;
    const added = await call<{ id: string; email: string; role: string }>('POST', '/v1/members', admin, {
      email: ' Kim@Roles.example ',
      role: 'member',
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ email: 'kim@roles.example', role: 'member' });
    const kim = added.body.id;

    const tooMuch = await call<{ field: string; error: string }>('POST', '/v1/keys', admin, {
      name: 'kim admin',
      scopes: ['admin'],
      member_id: kim,
    });
    expect([tooMuch.status, tooMuch.body.field]).toEqual([400, 'scopes']);
    expect(tooMuch.body.error).toContain("role 'member'");

    const readKey = (
      await call<KeyBody>('POST', '/v1/keys', admin, {
        name: 'kim read',
        scopes: ['ingest', 'read'],
        member_id: kim,
      })
    ).body.api_key!;
    const forbidden = await call<{ error: string; code: string }>('GET', '/v1/members', readKey);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({
      code: 'FORBIDDEN',
      error: "this API key lacks the 'admin' scope",
    });

    expect((await call('PATCH', `/v1/members/${kim}`, admin, { role: 'admin' })).status).toBe(200);
    const adminKey = (
      await call<KeyBody>('POST', '/v1/keys', admin, {
        name: 'kim admin',
        scopes: ['admin', 'read'],
        member_id: kim,
      })
    ).body.api_key!;
    expect((await call('GET', '/v1/members', adminKey)).status).toBe(200);

    const demoted = await call<{ role: string }>('PATCH', `/v1/members/${kim}`, admin, { role: 'member' });
    expect([demoted.status, demoted.body.role]).toEqual([200, 'member']);
    const narrowed = await call<{ error: string }>('GET', '/v1/members', adminKey);
    expect(narrowed.status).toBe(403);
    expect(narrowed.body.error).toContain("role 'member'");
    expect((await call('GET', '/v1/series', adminKey)).status).toBe(200);

    const duplicate = await call<{ code: string; field: string }>('POST', '/v1/members', admin, {
      email: 'KIM@roles.example',
      role: 'admin',
    });
    expect([duplicate.status, duplicate.body.code, duplicate.body.field]).toEqual([
      409,
      'MEMBER_EXISTS',
      'email',
    ]);
    const badRole = await call<{ error: string }>('PATCH', `/v1/members/${kim}`, admin, { role: 'owner' });
    expect(badRole.status).toBe(400);
    expect(badRole.body.error).toMatch(/^role: /);

    expect((await call('DELETE', `/v1/members/${kim}`, admin)).status).toBe(204);
    expect((await call('GET', '/v1/series', readKey)).status).toBe(401);
    expect((await call('GET', '/v1/series', adminKey)).status).toBe(401);
    const listed = await call<{ keys: KeyBody[] }>('GET', '/v1/keys', admin);
    expect(listed.body.keys.filter((k) => k.member_id === kim)).toEqual([]);
    expect((await call('DELETE', `/v1/members/${kim}`, admin)).status).toBe(404);

    // The last admin stays: nobody could make another one.
    for (const [method, body] of [
      ['PATCH', { role: 'member' }],
      ['DELETE', undefined],
    ] as const) {
      const refused = await call<{ code: string; error: string }>(
        method,
        `/v1/members/${root.body.admin_member_id}`,
        admin,
        body,
      );
      expect([refused.status, refused.body.code]).toEqual([409, 'LAST_ADMIN']);
      expect(refused.body.error).toContain("the tenant's only admin");
    }
    expect((await call('GET', '/v1/members', admin)).status).toBe(200);
  });

  it('lets the admin token and the tenant admin change the tenant, and no one else', async () => {
    const created = await call<{ id: string; api_key: string }>('POST', '/v1/tenants', ADMIN, {
      name: 'settings',
    });
    const { id, api_key: key } = created.body;
    const byAdmin = await call<Body>('PATCH', `/v1/tenants/${id}`, ADMIN, { retention: { points_days: 7 } });
    expect(byAdmin).toEqual({
      status: 200,
      body: {
        id,
        name: 'settings',
        retention: { points_days: 7, anomalies_days: 395 },
        zero_retention: false,
        billing: { stripe_customer_id: null },
        plan: 'team',
        limits: {
          points_per_second: 50_000,
          points_burst: 500_000,
          requests_per_second: 500,
          requests_burst: 1000,
          max_series: 100_000,
        },
        limit_overrides: {},
        llm: {
          triage: false,
          daily_tokens: null,
          expected_policy: 'downgrade',
          redact_labels: [],
          profiling: true,
        },
        status: 'active',
      },
    });
    const byTenant = await call<Body>('PATCH', `/v1/tenants/${id}`, key, {
      name: 'renamed',
      zero_retention: true,
    });
    expect(byTenant.body).toMatchObject({
      name: 'renamed',
      retention: { points_days: 7 },
      zero_retention: true,
    });

    const empty = await call<{ error: string }>('PATCH', `/v1/tenants/${id}`, key, {});
    expect([empty.status, empty.body.error]).toEqual([
      400,
      'body: nothing to change: give name, retention, zero_retention, plan, limits, billing, llm_triage or llm',
    ]);
    const outOfRange = await call<{ field: string }>('PATCH', `/v1/tenants/${id}`, key, {
      retention: { anomalies_days: 0 },
    });
    expect([outOfRange.status, outOfRange.body.field]).toEqual([400, 'anomaliesDays']);
    expect((await call('PATCH', '/v1/tenants/no-such-tenant', ADMIN, { name: 'x' })).status).toBe(404);
    expect((await call('PATCH', '/v1/tenants/not%20an%20id', ADMIN, { name: 'x' })).status).toBe(404);
    expect((await call('PATCH', `/v1/tenants/${id}`, 'wrong-token-wrong-token', { name: 'x' })).status).toBe(
      401,
    );
  });

  it('sets LLM settings with the admin token only, merged, checked naming the field, audited', async () => {
    const created = await call<{ id: string; api_key: string }>('POST', '/v1/tenants', ADMIN, {
      name: 'triaged',
    });
    const { id, api_key: key } = created.body;
    const llmOf = async (token = key) => (await call<Body>('GET', `/v1/tenants/${id}`, token)).body.llm;
    const defaults = {
      triage: false,
      daily_tokens: null,
      expected_policy: 'downgrade',
      redact_labels: [],
      profiling: true,
    };
    expect(await llmOf()).toEqual(defaults);

    const on = await call<Body>('PATCH', `/v1/tenants/${id}`, ADMIN, { llm_triage: true });
    expect([on.status, on.body.llm]).toEqual([200, { ...defaults, triage: true }]);
    expect(await llmOf()).toEqual({ ...defaults, triage: true });
    const set = await call<Body>('PATCH', `/v1/tenants/${id}`, ADMIN, {
      llm: { daily_tokens: 50_000, expected_policy: 'suppress', redact_labels: ['customer_*', 'email'] },
    });
    const settings = {
      triage: true,
      daily_tokens: 50_000,
      expected_policy: 'suppress',
      redact_labels: ['customer_*', 'email'],
      profiling: true,
    };
    expect([set.status, set.body.llm]).toEqual([200, settings]);
    // Both forms at once, for different settings: llm_triage is llm.triage.
    const reset = await call<Body>('PATCH', `/v1/tenants/${id}`, ADMIN, {
      llm_triage: false,
      llm: { daily_tokens: null, profiling: false },
    });
    const after = { ...settings, triage: false, daily_tokens: null, profiling: false };
    expect([reset.status, reset.body.llm]).toEqual([200, after]);

    const refusals: Array<[Body, number, string, string?]> = [
      [
        { llm_triage: true, llm: { triage: false } },
        400,
        'llm_triage',
        'llm_triage: give llm_triage or llm.triage, not both',
      ],
      [{ llm: { expected_policy: 'ignore' } }, 400, 'llm.expected_policy'],
      [
        { llm: { daily_tokens: 2_000_000_000 } },
        400,
        'llm.dailyTokens',
        'llm.dailyTokens must be an integer number of tokens in 0..1000000000, got 2000000000',
      ],
      [{ llm: { daily_tokens: 1.5 } }, 400, 'llm.daily_tokens'],
      [
        { llm: { redact_labels: ['host', 'x'.repeat(101)] } },
        400,
        'llm.redactLabels[1]',
        'llm.redactLabels[1] must be 1-100 characters, got 101',
      ],
      [{ llm: { model: 'gpt' } }, 400, 'llm.model', 'llm.model: unknown field'],
      [{ llm_triage: 'yes' }, 400, 'llm_triage'],
    ];
    for (const [body, status, field, error] of refusals) {
      const refused = await call<{ field: string; error: string }>('PATCH', `/v1/tenants/${id}`, ADMIN, body);
      expect([body, refused.status, refused.body.field]).toEqual([body, status, field]);
      if (error !== undefined) expect(refused.body.error).toBe(error);
    }
    for (const body of [{ llm_triage: true }, { llm: { redact_labels: [] } }]) {
      const byTenant = await call<{ code: string; error: string }>('PATCH', `/v1/tenants/${id}`, key, body);
      expect([byTenant.status, byTenant.body.code]).toEqual([403, 'FORBIDDEN']);
      expect(byTenant.body.error).toMatch(
        /^llm(_triage)? can only be changed with the deployment admin token$/,
      );
    }
    expect(await llmOf(ADMIN)).toEqual(after);

    const born = await call<{ id: string }>('POST', '/v1/tenants', ADMIN, {
      name: 'born-triaged',
      llm_triage: true,
      llm: { redact_labels: ['host'] },
    });
    expect(born.status).toBe(201);
    expect((await call<Body>('GET', `/v1/tenants/${born.body.id}`, ADMIN)).body.llm).toEqual({
      ...defaults,
      triage: true,
      redact_labels: ['host'],
    });

    const log = await call<AuditBody>('GET', '/v1/audit?action=tenant.updated', key);
    expect(log.body.entries.map((e) => e.details.changes)).toEqual([
      {
        'llm.triage': { from: true, to: false },
        'llm.daily_tokens': { from: 50_000, to: null },
        'llm.profiling': { from: true, to: false },
      },
      {
        'llm.daily_tokens': { from: null, to: 50_000 },
        'llm.expected_policy': { from: 'downgrade', to: 'suppress' },
        'llm.redact_labels': { from: [], to: ['customer_*', 'email'] },
      },
      { 'llm.triage': { from: false, to: true } },
    ]);
  });

  it('links a tenant to a Stripe customer with the admin token only, audited, and checks the id', async () => {
    const created = await call<{ id: string; api_key: string }>('POST', '/v1/tenants', ADMIN, {
      name: 'billed',
    });
    const { id, api_key: key } = created.body;

    const byTenant = await call<{ code: string; error: string }>('PATCH', `/v1/tenants/${id}`, key, {
      name: 'sneaky',
      billing: { stripe_customer_id: 'cus_Other' },
    });
    expect([byTenant.status, byTenant.body.code]).toEqual([403, 'FORBIDDEN']);
    const malformed = await call<{ field: string; error: string }>('PATCH', `/v1/tenants/${id}`, ADMIN, {
      billing: { stripe_customer_id: 'acct_123' },
    });
    expect([malformed.status, malformed.body.field]).toEqual([400, 'billing.stripe_customer_id']);
    expect(malformed.body.error).toMatch(/expected a Stripe customer id/);

    const linked = await call<Body>('PATCH', `/v1/tenants/${id}`, ADMIN, {
      billing: { stripe_customer_id: 'cus_NffrFeUfNV2Hib' },
    });
    expect(linked.status).toBe(200);
    expect(linked.body).toMatchObject({
      name: 'billed',
      billing: { stripe_customer_id: 'cus_NffrFeUfNV2Hib' },
    });
    // Other changes answer with the link too, and the refused rename above changed nothing.
    const renamed = await call<Body>('PATCH', `/v1/tenants/${id}`, key, { name: 'billed-2' });
    expect(renamed.body).toMatchObject({
      name: 'billed-2',
      billing: { stripe_customer_id: 'cus_NffrFeUfNV2Hib' },
    });
    const unlinked = await call<Body>('PATCH', `/v1/tenants/${id}`, ADMIN, {
      billing: { stripe_customer_id: null },
    });
    expect(unlinked.body).toMatchObject({ billing: { stripe_customer_id: null } });

    const log = await call<AuditBody>('GET', '/v1/audit?action=tenant.billing_changed', key);
    expect(log.body.entries.map((e) => [e.action, e.details])).toEqual([
      ['tenant.billing_changed', { stripe_customer_id: { from: 'cus_NffrFeUfNV2Hib', to: null } }],
      ['tenant.billing_changed', { stripe_customer_id: { from: null, to: 'cus_NffrFeUfNV2Hib' } }],
    ]);
  });

  it('records every admin action with its actor, target and source address, newest first, filtered on request', async () => {
    const created = await call<{ id: string; api_key: string; key_id: string; admin_member_id: string }>(
      'POST',
      '/v1/tenants',
      ADMIN,
      { name: 'audited', admin_email: 'root@audited.example' },
    );
    const { id, api_key: key, key_id: keyId, admin_member_id: rootId } = created.body;
    const lee = (
      await call<{ id: string }>('POST', '/v1/members', key, { email: 'lee@audited.example', role: 'member' })
    ).body.id;
    await call('PATCH', `/v1/members/${lee}`, key, { role: 'admin' });
    const extra = (await call<KeyBody>('POST', '/v1/keys', key, { name: 'ci', scopes: ['ingest'] })).body;
    await call('DELETE', `/v1/keys/${extra.id}`, key);
    await call('DELETE', `/v1/members/${lee}`, key);
    await call('PATCH', `/v1/tenants/${id}`, key, { retention: { points_days: 3 } });
    await call('PATCH', `/v1/tenants/${id}`, ADMIN, { name: 'audited-2' });

    const log = await call<AuditBody>('GET', '/v1/audit', key);
    expect(log.status).toBe(200);
    expect(log.body.entries.map((e) => [e.action, e.target])).toEqual([
      ['tenant.updated', id],
      ['tenant.updated', id],
      ['member.removed', lee],
      ['key.revoked', extra.id],
      ['key.created', extra.id],
      ['member.role_changed', lee],
      ['member.added', lee],
      ['key.created', keyId],
      ['member.added', rootId],
      ['tenant.created', id],
    ]);
    const [byToken, byKey] = log.body.entries;
    expect(byToken).toMatchObject({
      actor: { type: 'deployment-admin' },
      source_ip: '127.0.0.1',
      details: { changes: { name: { from: 'audited', to: 'audited-2' } } },
    });
    expect(byKey).toMatchObject({
      actor: { type: 'member', member_id: rootId, key_id: keyId },
      source_ip: '127.0.0.1',
      details: { changes: { points_days: { from: 30, to: 3 } } },
    });
    expect(JSON.stringify(log.body)).not.toContain(extra.api_key);

    const revocations = await call<AuditBody>('GET', '/v1/audit?action=key.revoked', key);
    expect(revocations.body.entries.map((e) => e.target)).toEqual([extra.id]);
    const since = await call<AuditBody>('GET', `/v1/audit?from=${Date.parse(byToken.at)}&limit=1`, key);
    expect(since.body.entries.map((e) => e.id)).toEqual([byToken.id]);
    const unknown = await call<{ error: string }>('GET', '/v1/audit?action=key.stolen', key);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatch(/^action: /);
  });
});
