import { parse } from 'protobufjs';
import { compressSync } from 'snappy';
import { eventually, startTestServer, type TestServer } from './embedded-server.harness';

/**
 * Tenant isolation, against the real embedded server: every tenant-scoped route, as the
 * server documents it in /openapi.json, is tried with no key, a revoked key, a key
 * lacking the route's scope, another tenant's key aimed at this tenant's things, and
 * with this tenant's id smuggled into the query, the body and headers. Tenant B has
 * data, members and keys; tenant A attacks. Nothing may return B's data or change it.
 *
 * The routes come from the app's own OpenAPI document: a new tenant route without a case
 * below fails the suite until it gets one.
 */

jest.setTimeout(60_000);

const ADMIN = 'isolation-admin-token-0123456789';
const MINUTE = 60_000;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
/** Points B ingests. */
const B_POINTS = 600;

interface Answer {
  status: number;
  text: string;
}

interface Call {
  method: string;
  path: string;
  body?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

/** What the suite knows of a tenant. */
interface TenantWorld {
  id: string;
  name: string;
  /** Of the first admin member: every scope. */
  adminKey: string;
  adminKeyId: string;
  adminMemberId: string;
  adminEmail: string;
  memberId: string;
  memberEmail: string;
  /** A service key with every scope. */
  extraKey: string;
  extraKeyId: string;
  series: string;
  subscriptionId: string;
  silenceId: string;
  /** One of its anomalies, once its spike was scored. */
  anomalyId?: string;
}

interface Attacker extends TenantWorld {
  revokedKey: string;
  /** A key per missing scope: ingest+read for admin routes, read for ingest, ingest for read. */
  lacking: Record<string, string>;
  /** An admin key of a member since demoted to the member role. */
  demotedAdminKey: string;
}

interface Case {
  /** The request A makes, aimed at B's things where the route names one. */
  call(a: Attacker, b: TenantWorld, n: number): Call;
  /** What A's answer must be; `smuggled` when B's id was added everywhere. */
  expect(answer: Answer, smuggled: boolean, b: TenantWorld): void;
}

const json = (value: unknown): Pick<Call, 'body' | 'contentType'> => ({
  body: JSON.stringify(value),
  contentType: 'application/json',
});

const parsed = <T>(answer: Answer): T => JSON.parse(answer.text) as T;

/** A refusal of B's id in the query or body (strict schemas) is as good as ignoring it. */
function okOrRefused(answer: Answer, ok: number, smuggled: boolean): boolean {
  if (smuggled && answer.status === 400) return false;
  expect(answer.status).toBe(ok);
  return true;
}

const REMOTE_WRITE = parse(
  `
  syntax = "proto3";
  message WriteRequest { repeated TimeSeries timeseries = 1; }
  message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
  message Label { string name = 1; string value = 2; }
  message Sample { double value = 1; int64 timestamp = 2; }
  `,
  { keepCase: true },
).root.lookupType('WriteRequest');

function remoteWrite(name: string, labels: Record<string, string>): Buffer {
  const request = {
    timeseries: [
      {
        labels: Object.entries({ __name__: name, ...labels }).map(([n, value]) => ({ name: n, value })),
        samples: [{ value: 1, timestamp: Date.now() }],
      },
    ],
  };
  return compressSync(Buffer.from(REMOTE_WRITE.encode(REMOTE_WRITE.fromObject(request)).finish()));
}

/** One case per tenant route; the key is `METHOD /path` as /openapi.json spells it. */
const CASES: Record<string, Case> = {
  'POST /v1/points': {
    call: (_a, _b, n) => ({
      method: 'POST',
      path: '/v1/points',
      ...json({ points: [{ series: 'a_pushed_json', ts: Date.now(), value: n }] }),
    }),
    expect: (answer, smuggled) => {
      if (okOrRefused(answer, 202, smuggled)) expect(parsed<{ accepted: number }>(answer).accepted).toBe(1);
    },
  },
  'POST /v1/write': {
    call: (_a, _b, n) => ({
      method: 'POST',
      path: '/v1/write?precision=ms',
      body: `a_pushed_influx,host=x value=${n} ${Date.now()}`,
      contentType: 'text/plain',
    }),
    expect: (answer, smuggled) => {
      if (okOrRefused(answer, 202, smuggled)) expect(parsed<{ accepted: number }>(answer).accepted).toBe(1);
    },
  },
  'POST /api/v1/write': {
    call: (_a, b) => ({
      method: 'POST',
      path: '/api/v1/write',
      body: remoteWrite('a_pushed_rw', { tenant_id: b.id }),
      contentType: 'application/x-protobuf',
    }),
    expect: (answer, smuggled) => {
      if (okOrRefused(answer, 202, smuggled)) expect(parsed<{ accepted: number }>(answer).accepted).toBe(1);
    },
  },
  'GET /v1/anomalies': {
    call: (_a, b) => ({ method: 'GET', path: `/v1/anomalies?series=${encodeURIComponent(b.series)}` }),
    expect: (answer, smuggled) => {
      if (okOrRefused(answer, 200, smuggled))
        expect(parsed<{ anomalies: unknown[] }>(answer).anomalies).toEqual([]);
    },
  },
  'GET /v1/anomalies/stream': {
    // Live events are checked by the stream A holds open while B's anomalies are found.
    call: (_a, b) => ({ method: 'GET', path: `/v1/anomalies/stream?series=${encodeURIComponent(b.series)}` }),
    expect: (answer, smuggled) => {
      okOrRefused(answer, 200, smuggled);
    },
  },
  'GET /v1/series': {
    call: () => ({ method: 'GET', path: '/v1/series' }),
    expect: (answer, _smuggled, b) => {
      expect(answer.status).toBe(200);
      const names = parsed<{ series: Array<{ series: string }> }>(answer).series.map((s) => s.series);
      expect(names).not.toContain(b.series);
    },
  },
  'GET /v1/series/{series}/points': {
    call: (_a, b) => ({
      method: 'GET',
      path: `/v1/series/${encodeURIComponent(b.series)}/points?from=${Date.now() - 7 * 24 * 60 * MINUTE}`,
    }),
    expect: (answer, smuggled) => {
      if (okOrRefused(answer, 200, smuggled)) {
        const range = parsed<{ points?: unknown[]; buckets?: unknown[] }>(answer);
        expect([...(range.points ?? []), ...(range.buckets ?? [])]).toEqual([]);
      }
    },
  },
  'GET /v1/series/{series}/hourly': {
    call: (_a, b) => ({
      method: 'GET',
      path: `/v1/series/${encodeURIComponent(b.series)}/hourly?from=${Date.now() - 7 * 24 * 60 * MINUTE}`,
    }),
    expect: (answer, smuggled) => {
      if (okOrRefused(answer, 200, smuggled)) expect(parsed<{ hours: unknown[] }>(answer).hours).toEqual([]);
    },
  },
  'GET /v1/members': {
    call: () => ({ method: 'GET', path: '/v1/members' }),
    expect: (answer, _smuggled, b) => {
      expect(answer.status).toBe(200);
      const ids = parsed<{ members: Array<{ id: string }> }>(answer).members.map((m) => m.id);
      expect(ids).not.toContain(b.memberId);
      expect(ids).not.toContain(b.adminMemberId);
    },
  },
  'POST /v1/members': {
    call: (_a, _b, n) => ({
      method: 'POST',
      path: '/v1/members',
      ...json({ email: `new-${n}@a.example`, role: 'admin' }),
    }),
    // Created in A, whatever names B: B's members are compared at the end.
    expect: (answer, smuggled) => {
      okOrRefused(answer, 201, smuggled);
    },
  },
  'PATCH /v1/members/{id}': {
    call: (_a, b) => ({ method: 'PATCH', path: `/v1/members/${b.memberId}`, ...json({ role: 'admin' }) }),
    expect: (answer, smuggled) => {
      okOrRefused(answer, 404, smuggled);
    },
  },
  'DELETE /v1/members/{id}': {
    call: (_a, b) => ({ method: 'DELETE', path: `/v1/members/${b.adminMemberId}` }),
    expect: (answer) => {
      expect(answer.status).toBe(404);
    },
  },
  'GET /v1/keys': {
    call: () => ({ method: 'GET', path: '/v1/keys' }),
    expect: (answer, _smuggled, b) => {
      expect(answer.status).toBe(200);
      const ids = parsed<{ keys: Array<{ id: string }> }>(answer).keys.map((k) => k.id);
      expect(ids).not.toContain(b.adminKeyId);
      expect(ids).not.toContain(b.extraKeyId);
    },
  },
  'POST /v1/keys': {
    // A key for B's member, made with A's key: refused, the member is not A's.
    call: (_a, b) => ({
      method: 'POST',
      path: '/v1/keys',
      ...json({ name: 'stolen', scopes: ['read'], member_id: b.adminMemberId }),
    }),
    expect: (answer) => {
      expect(answer.status).toBe(400);
    },
  },
  'DELETE /v1/keys/{id}': {
    call: (_a, b) => ({ method: 'DELETE', path: `/v1/keys/${b.extraKeyId}` }),
    expect: (answer) => {
      expect(answer.status).toBe(404);
    },
  },
  'GET /v1/audit': {
    call: () => ({ method: 'GET', path: '/v1/audit?limit=1000' }),
    expect: (answer, smuggled, b) => {
      if (okOrRefused(answer, 200, smuggled)) {
        const targets = parsed<{ entries: Array<{ target: string }> }>(answer).entries.map((e) => e.target);
        expect(targets).not.toContain(b.id);
        expect(targets).not.toContain(b.memberId);
      }
    },
  },
  'GET /v1/usage': {
    call: () => ({ method: 'GET', path: '/v1/usage?granularity=hour' }),
    // B ingested 600 points; A pushes one per ingest attack, far fewer: A's usage holding
    // 600 or more would be B's counted as A's.
    expect: (answer, smuggled) => {
      if (okOrRefused(answer, 200, smuggled)) {
        const usage = parsed<{ totals: { points_ingested: number } }>(answer);
        expect(usage.totals.points_ingested).toBeLessThan(B_POINTS);
      }
    },
  },
  'GET /v1/tenants/{id}': {
    call: (_a, b) => ({ method: 'GET', path: `/v1/tenants/${b.id}` }),
    expect: (answer, smuggled) => {
      okOrRefused(answer, 404, smuggled);
    },
  },
  'PATCH /v1/tenants/{id}': {
    call: (_a, b) => ({
      method: 'PATCH',
      path: `/v1/tenants/${b.id}`,
      ...json({ name: 'hijacked', retention: { points_days: 1 } }),
    }),
    expect: (answer, smuggled) => {
      okOrRefused(answer, 404, smuggled);
    },
  },
  'POST /v1/subscriptions': {
    call: (_a, _b, n) => ({
      method: 'POST',
      path: '/v1/subscriptions',
      ...json({ channel: 'email', target: { to: [`ops-${n}@a.example`] } }),
    }),
    // Made in A whatever names B: B's subscriptions are compared at the end.
    expect: (answer, smuggled) => {
      okOrRefused(answer, 201, smuggled);
    },
  },
  'GET /v1/subscriptions': {
    call: () => ({ method: 'GET', path: '/v1/subscriptions' }),
    expect: (answer, smuggled, b) => {
      if (okOrRefused(answer, 200, smuggled)) {
        const ids = parsed<{ subscriptions: Array<{ id: string }> }>(answer).subscriptions.map((x) => x.id);
        expect(ids).not.toContain(b.subscriptionId);
      }
    },
  },
  'GET /v1/subscriptions/{id}': {
    call: (_a, b) => ({ method: 'GET', path: `/v1/subscriptions/${b.subscriptionId}` }),
    expect: (answer, smuggled) => {
      okOrRefused(answer, 404, smuggled);
    },
  },
  'PATCH /v1/subscriptions/{id}': {
    call: (_a, b) => ({
      method: 'PATCH',
      path: `/v1/subscriptions/${b.subscriptionId}`,
      ...json({ target: { url: 'https://attacker.example/steal' } }),
    }),
    expect: (answer, smuggled) => {
      okOrRefused(answer, 404, smuggled);
    },
  },
  'DELETE /v1/subscriptions/{id}': {
    call: (_a, b) => ({ method: 'DELETE', path: `/v1/subscriptions/${b.subscriptionId}` }),
    expect: (answer, smuggled) => {
      okOrRefused(answer, 404, smuggled);
    },
  },
  'POST /v1/subscriptions/{id}/mute': {
    call: (_a, b) => ({
      method: 'POST',
      path: `/v1/subscriptions/${b.subscriptionId}/mute`,
      ...json({ until: Date.now() + 60 * MINUTE }),
    }),
    expect: (answer, smuggled) => {
      okOrRefused(answer, 404, smuggled);
    },
  },
  'DELETE /v1/subscriptions/{id}/mute': {
    call: (_a, b) => ({ method: 'DELETE', path: `/v1/subscriptions/${b.subscriptionId}/mute` }),
    expect: (answer, smuggled) => {
      okOrRefused(answer, 404, smuggled);
    },
  },
  'POST /v1/silences': {
    call: () => ({
      method: 'POST',
      path: '/v1/silences',
      ...json({ matchers: { labels: { host: 'a-*' } }, ends_at: Date.now() + 60 * MINUTE }),
    }),
    expect: (answer, smuggled) => {
      okOrRefused(answer, 201, smuggled);
    },
  },
  'GET /v1/silences': {
    call: () => ({ method: 'GET', path: '/v1/silences' }),
    expect: (answer, smuggled, b) => {
      if (okOrRefused(answer, 200, smuggled)) {
        const ids = parsed<{ silences: Array<{ id: string }> }>(answer).silences.map((x) => x.id);
        expect(ids).not.toContain(b.silenceId);
      }
    },
  },
  'DELETE /v1/silences/{id}': {
    call: (_a, b) => ({ method: 'DELETE', path: `/v1/silences/${b.silenceId}` }),
    expect: (answer, smuggled) => {
      okOrRefused(answer, 404, smuggled);
    },
  },
  'GET /v1/deliveries': {
    call: () => ({ method: 'GET', path: '/v1/deliveries' }),
    expect: (answer, smuggled, b) => {
      if (okOrRefused(answer, 200, smuggled)) {
        const listed = parsed<{ deliveries: Array<{ subscription_id: string }> }>(answer).deliveries;
        expect(listed.map((d) => d.subscription_id)).not.toContain(b.subscriptionId);
      }
    },
  },
  'POST /v1/deliveries/{id}/retry': {
    // B's outbox ids are not known to A; a delivery of B's subscription would be named like this.
    call: (_a, b) => ({ method: 'POST', path: `/v1/deliveries/${b.subscriptionId}:inc_0:opened:0/retry` }),
    expect: (answer, smuggled) => {
      okOrRefused(answer, 404, smuggled);
    },
  },
  'POST /v1/anomalies/{id}/feedback': {
    call: (_a, b) => ({
      method: 'POST',
      path: `/v1/anomalies/${b.anomalyId}/feedback`,
      ...json({ label: 'false_positive', note: 'not yours to label' }),
    }),
    expect: (answer, smuggled) => {
      okOrRefused(answer, 404, smuggled);
    },
  },
  'GET /v1/anomalies/{id}/feedback': {
    call: (_a, b) => ({ method: 'GET', path: `/v1/anomalies/${b.anomalyId}/feedback` }),
    expect: (answer, smuggled) => {
      okOrRefused(answer, 404, smuggled);
    },
  },
  'POST /v1/tenants/{id}/close': {
    call: (_a, b) => ({ method: 'POST', path: `/v1/tenants/${b.id}/close`, ...json({ grace_days: 0 }) }),
    expect: (answer, smuggled) => {
      okOrRefused(answer, 404, smuggled);
    },
  },
  'GET /v1/tenants/{id}/export': {
    call: (_a, b) => ({ method: 'GET', path: `/v1/tenants/${b.id}/export` }),
    expect: (answer, smuggled) => {
      okOrRefused(answer, 404, smuggled);
    },
  },
  'DELETE /v1/tenants/{id}': {
    call: (_a, b) => ({ method: 'DELETE', path: `/v1/tenants/${b.id}?confirm=${b.id}` }),
    expect: (answer, smuggled) => {
      okOrRefused(answer, 404, smuggled);
    },
  },
};

/** The same call with B's tenant id in every place a careless server might read a tenant from. */
function smuggle(call: Call, tenantId: string): Call {
  const separator = call.path.includes('?') ? '&' : '?';
  let body = call.body;
  if (call.contentType === 'application/json' && typeof body === 'string') {
    body = JSON.stringify({ ...(JSON.parse(body) as object), tenant_id: tenantId, tenant: tenantId });
  }
  return {
    ...call,
    path: `${call.path}${separator}tenant_id=${tenantId}&tenant=${tenantId}`,
    ...(body !== undefined ? { body } : {}),
    headers: {
      'x-tenant-id': tenantId,
      'x-seismo-tenant': tenantId,
      'x-scope-orgid': tenantId,
      tenant: tenantId,
      cookie: `tenant=${tenantId}`,
    },
  };
}

describe('tenant isolation (real embedded server): nothing reaches another tenant', () => {
  let server: TestServer;
  let a: Attacker;
  let b: TenantWorld;
  let bAnomalyIds: string[];
  let routes: Array<{ route: string; scope: string }>;
  let attackerStream: LiveStream;
  let ownStream: LiveStream;
  let counter = 0;

  const send = async (call: Call, token?: string): Promise<Answer> => {
    const response = await fetch(`${server.url}${call.path}`, {
      method: call.method,
      headers: {
        ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
        ...(call.contentType ? { 'content-type': call.contentType } : {}),
        ...call.headers,
      },
      ...(call.body !== undefined ? { body: call.body } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      await response.body?.cancel();
      return { status: response.status, text: '' };
    }
    return { status: response.status, text: await response.text() };
  };

  const post = async <T>(path: string, token: string, body: unknown, expected = 201): Promise<T> => {
    const answer = await send({ method: 'POST', path, ...json(body) }, token);
    expect([path, answer.status]).toEqual([path, expected]);
    return parsed<T>(answer);
  };

  async function tenant(name: string, series: string): Promise<TenantWorld> {
    const created = await post<{ id: string; api_key: string; key_id: string; admin_member_id: string }>(
      '/v1/tenants',
      ADMIN,
      { name, admin_email: `root@${name}.example` },
    );
    const member = await post<{ id: string }>('/v1/members', created.api_key, {
      email: `person@${name}.example`,
      role: 'member',
    });
    const extra = await post<{ id: string; api_key: string }>('/v1/keys', created.api_key, {
      name: 'service',
      scopes: ['ingest', 'read', 'admin'],
    });
    const subscription = await post<{ id: string }>('/v1/subscriptions', created.api_key, {
      channel: 'webhook',
      target: { url: `https://hooks.${name}.example/seismo` },
      owner_member_id: member.id,
    });
    const silence = await post<{ id: string }>('/v1/silences', created.api_key, {
      matchers: { series: 'maintenance_*' },
      ends_at: Date.now() + 24 * 60 * MINUTE,
    });
    return {
      subscriptionId: subscription.id,
      silenceId: silence.id,
      id: created.id,
      name,
      adminKey: created.api_key,
      adminKeyId: created.key_id,
      adminMemberId: created.admin_member_id,
      adminEmail: `root@${name}.example`,
      memberId: member.id,
      memberEmail: `person@${name}.example`,
      extraKey: extra.api_key,
      extraKeyId: extra.id,
      series,
    };
  }

  /** Everything of B that B itself can read, to compare before and after the attacks. */
  async function stateOf(world: TenantWorld) {
    const read = async (path: string) =>
      parsed<Record<string, unknown>>(await send({ method: 'GET', path }, world.adminKey));
    const series = (await read('/v1/series')).series as Array<{ series: string; points: number }>;
    const anomalies = (await read('/v1/anomalies?limit=10000')).anomalies as Array<{ id: string }>;
    const members = (await read('/v1/members')).members as Array<{ id: string; email: string; role: string }>;
    const keys = (await read('/v1/keys')).keys as Array<{ id: string; scopes: string[] }>;
    const subscriptions = (await read('/v1/subscriptions')).subscriptions as Array<Record<string, unknown>>;
    const silences = (await read('/v1/silences')).silences as Array<{ id: string }>;
    return {
      series: series.map((s) => [s.series, s.points]),
      anomalies: anomalies.map((x) => x.id).sort(),
      members: members.map((m) => [m.id, m.email, m.role]),
      keys: keys.map((k) => [k.id, k.scopes]),
      subscriptions,
      silences: silences.map((x) => x.id),
    };
  }

  let before: Awaited<ReturnType<typeof stateOf>>;

  beforeAll(async () => {
    server = await startTestServer({ SEISMO_ADMIN_TOKEN: ADMIN, SEISMO_PARTITIONS: '2' });
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<string, { security?: Array<Record<string, unknown>>; 'x-seismo-scope'?: string }>
      >;
    };
    routes = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method, op]) => METHODS.includes(method) && (op.security ?? []).some((s) => 'tenant' in s))
        .map(([method, op]) => ({
          route: `${method.toUpperCase()} ${path}`,
          scope: op['x-seismo-scope'] ?? '',
        })),
    );

    b = await tenant('globex', 'b-secret-cpu{host="vault"}');
    const attacker = await tenant('acme', 'a-cpu');
    const keyOf = async (scopes: string[], memberId?: string) =>
      (
        await post<{ api_key: string }>('/v1/keys', attacker.adminKey, {
          name: scopes.join('+'),
          scopes,
          ...(memberId ? { member_id: memberId } : {}),
        })
      ).api_key;
    const revoked = await post<{ id: string; api_key: string }>('/v1/keys', attacker.adminKey, {
      name: 'to revoke',
      scopes: ['ingest', 'read', 'admin'],
    });
    expect((await send({ method: 'DELETE', path: `/v1/keys/${revoked.id}` }, attacker.adminKey)).status).toBe(
      204,
    );
    const demoted = await post<{ id: string }>('/v1/members', attacker.adminKey, {
      email: 'demoted@acme.example',
      role: 'admin',
    });
    const demotedAdminKey = await keyOf(['ingest', 'read', 'admin'], demoted.id);
    const demotion = await send(
      { method: 'PATCH', path: `/v1/members/${demoted.id}`, ...json({ role: 'member' }) },
      attacker.adminKey,
    );
    expect(demotion.status).toBe(200);
    a = {
      ...attacker,
      revokedKey: revoked.api_key,
      demotedAdminKey,
      lacking: {
        // The member-role person's own key: ingest and read, all the role allows.
        admin: await keyOf(['ingest', 'read'], attacker.memberId),
        ingest: await keyOf(['read']),
        read: await keyOf(['ingest']),
      },
    };

    // A listens with B's id smuggled in; B listens too, to prove the events do flow.
    attackerStream = await LiveStream.open(`${server.url}/v1/anomalies/stream`, {
      authorization: `Bearer ${a.adminKey}`,
      'x-tenant-id': b.id,
      tenant: b.id,
    });
    ownStream = await LiveStream.open(`${server.url}/v1/anomalies/stream`, {
      authorization: `Bearer ${b.adminKey}`,
    });

    // B's data: a steady series with one spike, stored and found.
    const start = Date.now() - 700 * MINUTE;
    const points = Array.from({ length: B_POINTS }, (_, i) => ({
      series: 'b-secret-cpu',
      labels: { host: 'vault' },
      ts: start + i * MINUTE,
      value: i === 500 ? 400 : 50 + 5 * Math.sin(i / 20) + ((i * 7919) % 13) / 13,
    }));
    await post('/v1/points', b.adminKey, { points }, 202);
    bAnomalyIds = await eventually(async () => {
      const found = parsed<{ anomalies: Array<{ id: string }> }>(
        await send({ method: 'GET', path: '/v1/anomalies' }, b.adminKey),
      ).anomalies;
      return found.length > 0 ? found.map((x) => x.id) : undefined;
    }, "B's spike to become an anomaly");
    b = { ...b, anomalyId: bAnomalyIds[0] };
    await eventually(
      async () => (ownStream.anomalies() > 0 ? true : undefined),
      "B's own stream to carry its anomaly",
    );
    before = await eventually(async () => {
      const state = await stateOf(b);
      return state.series.length === 1 && state.series[0][1] === 600 ? state : undefined;
    }, "all of B's points to be stored");
  }, 120_000);

  afterAll(async () => {
    attackerStream?.close();
    ownStream?.close();
    await server?.close();
  });

  /**
   * B's strings A was never told: none may appear in an answer to A (unless A sent it).
   * B's tenant id is not among them: A smuggles it, and an id is not data.
   */
  const secretsOfB = (): string[] => [
    b.name,
    b.series,
    'b-secret-cpu',
    b.adminEmail,
    b.memberEmail,
    b.adminKeyId,
    b.extraKeyId,
    b.memberId,
    b.adminMemberId,
    b.adminKey,
    b.extraKey,
    ...bAnomalyIds,
  ];

  function expectNoSecretsOfB(call: Call, answer: Answer): void {
    const sent = `${call.path} ${typeof call.body === 'string' ? call.body : ''} ${JSON.stringify(call.headers ?? {})}`;
    const leaked = secretsOfB().filter(
      (secret) =>
        !sent.includes(secret) && !sent.includes(encodeURIComponent(secret)) && answer.text.includes(secret),
    );
    expect(leaked).toEqual([]);
  }

  it('has a case for every tenant route the server documents, and each names its scope', () => {
    expect(routes.length).toBeGreaterThanOrEqual(Object.keys(CASES).length);
    expect(routes.map((r) => r.route).sort()).toEqual(Object.keys(CASES).sort());
    for (const { route, scope } of routes)
      expect([route, scope]).toEqual([route, expect.stringMatching(/^(ingest|read|admin)$/)]);
  });

  describe.each(Object.keys(CASES).sort())('%s', (route) => {
    const kase = CASES[route];
    const scopeOf = () => routes.find((r) => r.route === route)!.scope;

    it('refuses a request without a key (401)', async () => {
      const answer = await send(kase.call(a, b, ++counter));
      expect([answer.status, parsed<{ error: string }>(answer).error]).toEqual([401, expect.any(String)]);
    });

    it('refuses a revoked key (401)', async () => {
      expect((await send(kase.call(a, b, ++counter), a.revokedKey)).status).toBe(401);
    });

    it('refuses a key without the scope (403, naming it)', async () => {
      const answer = await send(kase.call(a, b, ++counter), a.lacking[scopeOf()]);
      expect(answer.status).toBe(403);
      expect(parsed<{ error: string; code: string }>(answer)).toMatchObject({
        code: 'FORBIDDEN',
        error: `this API key lacks the '${scopeOf()}' scope`,
      });
    });

    it("refuses an admin key whose member's role no longer allows the scope (403, naming the role)", async () => {
      const answer = await send(kase.call(a, b, ++counter), a.demotedAdminKey);
      if (scopeOf() === 'admin') {
        expect(answer.status).toBe(403);
        expect(parsed<{ error: string }>(answer).error).toContain("role 'member'");
      } else {
        // Ingest and read are the member role's: the demoted person keeps them.
        expect(answer.status).toBeLessThan(500);
        expect(answer.status).not.toBe(403);
        expect(answer.status).not.toBe(401);
      }
    });

    it("lets another tenant's key reach nothing of B", async () => {
      const call = kase.call(a, b, ++counter);
      const answer = await send(call, a.adminKey);
      kase.expect(answer, false, b);
      expectNoSecretsOfB(call, answer);
    });

    it("ignores or refuses B's tenant id smuggled into the query, the body and headers", async () => {
      const call = smuggle(kase.call(a, b, ++counter), b.id);
      const answer = await send(call, a.adminKey);
      expect(answer.status).toBeLessThan(500);
      kase.expect(answer, true, b);
      expectNoSecretsOfB(call, answer);
    });
  });

  it("sent none of B's live anomalies to A's stream", () => {
    expect(ownStream.anomalies()).toBeGreaterThan(0);
    expect(attackerStream.anomalies()).toBe(0);
    for (const id of bAnomalyIds) expect(attackerStream.text()).not.toContain(id);
  });

  it("left B's data, members, keys and settings as they were, and its audit log free of A", async () => {
    // A's own pushes went somewhere: to A, once the engine has stored them.
    await eventually(async () => {
      const names = parsed<{ series: Array<{ series: string }> }>(
        await send({ method: 'GET', path: '/v1/series' }, a.adminKey),
      ).series.map((s) => s.series);
      return ['a_pushed_json', 'a_pushed_influx_value{host="x"}'].every((n) => names.includes(n)) &&
        names.some((n) => n.startsWith('a_pushed_rw'))
        ? true
        : undefined;
    }, "A's pushed points to be stored as A's");
    expect(await stateOf(b)).toEqual(before);
    for (const key of [b.adminKey, b.extraKey]) {
      expect((await send({ method: 'GET', path: '/v1/members' }, key)).status).toBe(200);
    }
    const entries = parsed<{
      entries: Array<{ action: string; actor: { type: string; key_id?: string } }>;
    }>(await send({ method: 'GET', path: '/v1/audit?limit=1000' }, b.adminKey)).entries;
    const bKeys = new Set([b.adminKeyId, b.extraKeyId]);
    for (const entry of entries) {
      expect(entry.actor.type === 'deployment-admin' || bKeys.has(entry.actor.key_id!)).toBe(true);
    }
    expect(entries.map((e) => e.action)).not.toContain('tenant.updated');
  });
});

/** An open SSE connection that keeps what arrives. */
class LiveStream {
  private received = '';

  private constructor(private readonly controller: AbortController) {}

  static async open(url: string, headers: Record<string, string>): Promise<LiveStream> {
    const controller = new AbortController();
    const response = await fetch(url, { headers, signal: controller.signal });
    expect(response.status).toBe(200);
    const stream = new LiveStream(controller);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          stream.received += decoder.decode(value, { stream: true });
        }
      } catch {
        // Aborted by close().
      }
    })();
    return stream;
  }

  anomalies(): number {
    return this.received.split('\n').filter((line) => line === 'event: anomaly').length;
  }

  text(): string {
    return this.received;
  }

  close(): void {
    this.controller.abort();
  }
}
