import { startTestServer, type TestServer } from './embedded-server.harness';

interface Operation {
  'x-seismo-scope'?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every route of the public contract this server implements, with the credentials it takes. */
const CONTRACT: Array<[method: string, path: string, auth: 'admin' | 'tenant' | 'admin-or-tenant' | 'none']> =
  [
    ['get', '/health', 'none'],
    ['get', '/metrics', 'none'],
    ['post', '/v1/tenants', 'admin'],
    ['patch', '/v1/tenants/{id}', 'admin-or-tenant'],
    ['get', '/v1/tenants/{id}', 'admin-or-tenant'],
    ['delete', '/v1/tenants/{id}', 'admin-or-tenant'],
    ['post', '/v1/tenants/{id}/close', 'admin-or-tenant'],
    ['post', '/v1/tenants/{id}/reopen', 'admin'],
    ['get', '/v1/tenants/{id}/export', 'admin-or-tenant'],
    ['get', '/v1/members', 'tenant'],
    ['post', '/v1/members', 'tenant'],
    ['patch', '/v1/members/{id}', 'tenant'],
    ['delete', '/v1/members/{id}', 'tenant'],
    ['get', '/v1/keys', 'tenant'],
    ['post', '/v1/keys', 'tenant'],
    ['delete', '/v1/keys/{id}', 'tenant'],
    ['get', '/v1/audit', 'tenant'],
    ['post', '/v1/points', 'tenant'],
    ['post', '/v1/write', 'tenant'],
    ['post', '/api/v1/write', 'tenant'],
    ['get', '/v1/anomalies', 'tenant'],
    ['get', '/v1/anomalies/stream', 'tenant'],
    ['get', '/v1/series', 'tenant'],
    ['get', '/v1/series/{series}/points', 'tenant'],
    ['get', '/v1/usage', 'tenant'],
    ['get', '/v1/series/{series}/hourly', 'tenant'],
    ['post', '/v1/subscriptions', 'tenant'],
    ['get', '/v1/subscriptions', 'tenant'],
    ['get', '/v1/subscriptions/{id}', 'tenant'],
    ['patch', '/v1/subscriptions/{id}', 'tenant'],
    ['delete', '/v1/subscriptions/{id}', 'tenant'],
    ['post', '/v1/subscriptions/{id}/mute', 'tenant'],
    ['delete', '/v1/subscriptions/{id}/mute', 'tenant'],
    ['post', '/v1/silences', 'tenant'],
    ['get', '/v1/silences', 'tenant'],
    ['delete', '/v1/silences/{id}', 'tenant'],
    ['get', '/v1/deliveries', 'tenant'],
    ['post', '/v1/deliveries/{id}/retry', 'tenant'],
    ['post', '/v1/anomalies/{id}/feedback', 'tenant'],
    ['get', '/v1/anomalies/{id}/feedback', 'tenant'],
    ['get', '/v1/feedback/{token}', 'none'],
    ['post', '/v1/feedback/{token}', 'none'],
    ['get', '/v1/charts/{token}', 'none'],
  ];

/** A schema, or the one its $ref names inside the document. */
function resolved(doc: OpenApiDocument, schema: unknown): unknown {
  const ref = (schema as { $ref?: string } | undefined)?.$ref;
  if (ref === undefined) return schema;
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((into, part) => (into as Record<string, unknown> | undefined)?.[part], doc);
}

/**
 * The structural rules of OpenAPI 3.0 a client generator trips on: a version, paths made
 * of operations that each answer something, path templates whose parameters are declared,
 * security naming declared schemes, and every $ref resolving inside the document.
 */
function structuralErrors(doc: OpenApiDocument): string[] {
  const errors: string[] = [];
  if (!/^3\.0\.\d+$/.test(doc.openapi)) errors.push(`openapi is ${doc.openapi}, expected 3.0.x`);
  if (!doc.info?.title || !doc.info?.version) errors.push('info.title and info.version are required');
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith('/')) errors.push(`path ${path} does not start with /`);
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const where = `${method.toUpperCase()} ${path}`;
      if (Object.keys(op.responses ?? {}).length === 0) errors.push(`${where} has no responses`);
      for (const name of [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])) {
        const declared = op.parameters?.find((p) => p.in === 'path' && p.name === name);
        if (!declared?.required) errors.push(`${where} does not declare the required path parameter ${name}`);
      }
      for (const requirement of op.security ?? []) {
        for (const scheme of Object.keys(requirement)) {
          if (!doc.components.securitySchemes[scheme])
            errors.push(`${where} names undeclared scheme ${scheme}`);
        }
      }
    }
  }
  const visit = (node: unknown, at: string): void => {
    if (Array.isArray(node)) node.forEach((child, i) => visit(child, `${at}/${i}`));
    else if (node && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) {
        if (key === '$ref') {
          if (resolved(doc, node) === undefined)
            errors.push(`${at}: $ref ${String(child)} resolves to nothing`);
        } else visit(child, `${at}/${key}`);
      }
    }
  };
  visit(doc, '#');
  return errors;
}

describe('GET /openapi.json and /docs (real server)', () => {
  let server: TestServer;
  let doc: OpenApiDocument;

  beforeAll(async () => {
    server = await startTestServer();
    const response = await fetch(`${server.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    doc = (await response.json()) as OpenApiDocument;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it('is a structurally valid OpenAPI 3.0 document with the two bearer schemes', () => {
    expect(structuralErrors(doc)).toEqual([]);
    expect(doc.info.title).toBe('Seismo');
    expect(doc.components.securitySchemes).toMatchObject({
      admin: { type: 'http', scheme: 'bearer' },
      tenant: { type: 'http', scheme: 'bearer' },
    });
  });

  it.each(CONTRACT)('documents %s %s with its credentials (%s)', (method, path, auth) => {
    const op = doc.paths[path]?.[method];
    expect(op).toBeDefined();
    if (auth === 'none') expect(op.security ?? []).toEqual([]);
    else if (auth === 'admin-or-tenant') expect(op.security).toEqual([{ admin: [] }, { tenant: [] }]);
    else expect(op.security).toEqual([{ [auth]: [] }]);
    if (auth !== 'none') expect(op.responses['401']).toBeDefined();
    // A key may be valid and still not allowed: every tenant route says which scope it needs.
    if (auth === 'tenant' || auth === 'admin-or-tenant') {
      expect(op.responses['403']).toBeDefined();
      expect(['ingest', 'read', 'admin']).toContain(op['x-seismo-scope']);
    }
    const success = Object.keys(op.responses).filter((status) => status.startsWith('2'));
    expect(success).toHaveLength(1);
  });

  it('documents no route the contract above does not name, so a new route gets its test', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => METHODS.includes(method))
        .map((method) => `${method} ${path}`),
    );
    expect(documented.sort()).toEqual(CONTRACT.map(([method, path]) => `${method} ${path}`).sort());
  });

  it('documents the ingest bodies by content type and the 202 answer', () => {
    const body = (path: string) => doc.paths[path].post.requestBody?.content ?? {};
    expect(Object.keys(body('/v1/points'))).toEqual(['application/json']);
    expect(body('/v1/points')['application/json'].schema).toMatchObject({ required: ['points'] });
    expect(Object.keys(body('/v1/write'))).toEqual(['text/plain']);
    expect(Object.keys(body('/api/v1/write'))).toEqual(['application/x-protobuf']);
    expect(body('/api/v1/write')['application/x-protobuf'].schema).toMatchObject({ format: 'binary' });
    expect(doc.paths['/v1/write'].post.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'precision', in: 'query', required: false })]),
    );
    for (const path of ['/v1/points', '/v1/write', '/api/v1/write']) {
      const answer = (status: string) =>
        doc.paths[path].post.responses[status].content?.['application/json'].schema;
      expect(resolved(doc, answer('202'))).toMatchObject({ required: ['accepted', 'rejected'] });
      expect(resolved(doc, answer('400'))).toMatchObject({ required: ['statusCode', 'error'] });
      expect(resolved(doc, answer('401'))).toMatchObject({ required: ['statusCode', 'error'] });
    }
  });

  it('documents the query parameters and answers of the queries', () => {
    const params = (path: string) => (doc.paths[path].get.parameters ?? []).map((p) => `${p.in}:${p.name}`);
    expect(params('/v1/anomalies').sort()).toEqual(
      ['query:from', 'query:limit', 'query:min_score', 'query:series', 'query:to'].sort(),
    );
    expect(params('/v1/series/{series}/points').sort()).toEqual(
      ['path:series', 'query:from', 'query:max_points', 'query:to'].sort(),
    );
    const ok = (path: string) => doc.paths[path].get.responses['200'].content?.['application/json'].schema;
    expect(ok('/v1/anomalies')).toMatchObject({ required: ['anomalies'] });
    expect(ok('/v1/series')).toMatchObject({ required: ['series'] });
    expect(ok('/v1/series/{series}/points')).toHaveProperty('oneOf');
    expect(params('/v1/anomalies/stream').sort()).toEqual(['query:min_score', 'query:series']);
    const stream = doc.paths['/v1/anomalies/stream'].get.responses['200'].content ?? {};
    expect(Object.keys(stream)).toEqual(['text/event-stream']);
    expect(stream['text/event-stream'].schema).toMatchObject({
      required: expect.arrayContaining(['id', 'score']),
    });
    expect(doc.paths['/v1/tenants'].post.requestBody?.content['application/json'].schema).toMatchObject({
      required: ['name'],
    });
  });

  it('serves Swagger UI at /docs, with its assets, reading /openapi.json', async () => {
    const page = await fetch(`${server.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<div id="swagger-ui">');
    for (const asset of [...html.matchAll(/(?:href|src)="(\/docs\/[^"]+)"/g)].map((m) => m[1])) {
      const response = await fetch(`${server.url}${asset}`);
      expect([asset, response.status]).toEqual([asset, 200]);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    expect(await (await fetch(`${server.url}/docs/init.js`)).text()).toContain("url: '/openapi.json'");
    expect((await fetch(`${server.url}/docs/package.json`)).status).toBe(404);
    expect((await fetch(`${server.url}/docs/..%2Fpackage.json`)).status).toBe(404);
  });
});
