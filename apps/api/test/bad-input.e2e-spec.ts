import { parse } from 'protobufjs';
import { compressSync } from 'snappy';
import { eventually, startTestServer, type TestServer } from './embedded-server.harness';

const ADMIN = 'e2e-admin-token-0123456789';
const MINUTE = 60_000;
const DAY = 86_400_000;

interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

interface Ingested {
  accepted: number;
  rejected: Array<{ index: number; error: string }>;
}

interface Refused {
  statusCode: number;
  code?: string;
  field?: string;
  error: string;
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

function remoteWrite(
  timeseries: Array<{ labels: Record<string, string>; samples: Array<[number, number]> }>,
) {
  const request = {
    timeseries: timeseries.map((s) => ({
      labels: Object.entries(s.labels).map(([name, value]) => ({ name, value })),
      samples: s.samples.map(([value, timestamp]) => ({ value, timestamp })),
    })),
  };
  return compressSync(Buffer.from(REMOTE_WRITE.encode(REMOTE_WRITE.fromObject(request)).finish()));
}

/**
 * Each kind of bad input the API can be sent, through the real server: a 4xx naming the
 * field, or a 202 refusing the point by its index and naming its field, and the valid
 * rest of the same request taken and stored.
 */
describe('bad input (real server, real embedded ClickHouse)', () => {
  let server: TestServer;
  let key: string;

  /** `authorization` is the whole header as sent; `body` a string or bytes as sent, anything else as JSON. */
  const send = async <T = Refused>(
    method: string,
    path: string,
    authorization: string | undefined,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<Answer<T>> => {
    const raw = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(authorization !== undefined ? { authorization } : {}),
        ...(body !== undefined ? { 'content-type': contentType } : {}),
      },
      ...(body !== undefined ? { body: raw } : {}),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as T };
  };
  const call = <T = Refused>(method: string, path: string, token: string, body?: unknown, type?: string) =>
    send<T>(method, path, `Bearer ${token}`, body, type);

  /** The values stored for `series` in the last day, once `count` of them are there. */
  const stored = (series: string, count: number) =>
    eventually(async () => {
      const now = Date.now();
      const answer = await call<{ points: Array<{ value: number }> }>(
        'GET',
        `/v1/series/${encodeURIComponent(series)}/points?from=${now - DAY}&to=${now + MINUTE}`,
        key,
      );
      expect(answer.status).toBe(200);
      return answer.body.points.length >= count ? answer.body.points.map((p) => p.value) : undefined;
    }, `${count} points of ${series}`);

  beforeAll(async () => {
    server = await startTestServer({ SEISMO_ADMIN_TOKEN: ADMIN, SEISMO_PARTITIONS: '2' });
    const tenant = await call<{ api_key: string }>('POST', '/v1/tenants', ADMIN, { name: 'bad-input' });
    expect(tenant.status).toBe(201);
    key = tenant.body.api_key;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it('POST /v1/points refuses each bad point by its index, naming the field, and stores the others', async () => {
    const now = Date.now();
    const good = { series: 'bad_input_json', labels: { host: 'a' } };
    // Raw text: 1e999 is valid JSON that no double holds.
    const points = [
      JSON.stringify({ ...good, ts: now - 3000, value: 1 }),
      JSON.stringify({ ...good, ts: now, value: 'NaN' }),
      `{"series":"bad_input_json","labels":{"host":"a"},"ts":${now},"value":1e999}`,
      JSON.stringify({ ...good, ts: now - 30 * DAY, value: 1 }),
      JSON.stringify({ ...good, ts: now + DAY, value: 1 }),
      JSON.stringify({ ...good, series: 'bad\u0000input', ts: now, value: 1 }),
      JSON.stringify({ ...good, labels: { host: 'a\u0085' }, ts: now, value: 1 }),
      JSON.stringify({ ...good, labels: { 'h\u007fost': 'a' }, ts: now, value: 1 }),
      JSON.stringify({ ...good, ts: now, value: 1, valeu: 1 }),
      JSON.stringify({ ...good, ts: now, value: '1' }),
      JSON.stringify({ ...good, ts: now - 2000, value: 2 }),
      JSON.stringify({ ...good, series: 42, ts: now, value: 1 }),
      JSON.stringify({ ...good, ts: '2026-13-01T00:00:00Z', value: 1 }),
    ];
    const pushed = await call<Ingested>('POST', '/v1/points', key, `{"points":[${points.join(',')}]}`);
    expect(pushed.status).toBe(202);
    expect(pushed.body.accepted).toBe(2);
    expect(pushed.body.rejected.map((r) => [r.index, r.error.slice(0, r.error.indexOf(':'))])).toEqual([
      [1, 'points[1].value'],
      [2, 'points[2].value'],
      [3, 'points[3].ts'],
      [4, 'points[4].ts'],
      [5, 'points[5].series'],
      [6, 'points[6].labels.host'],
      [7, 'points[7].labels["h\\u007fost"]'],
      [8, 'points[8].valeu'],
      [9, 'points[9].value'],
      [11, 'points[11].series'],
      [12, 'points[12].ts'],
    ]);
    const errors = pushed.body.rejected.map((r) => r.error);
    expect(errors[1]).toBe('points[2].value: must be a finite number, got Infinity');
    expect(errors[2]).toMatch(/too far in the past/);
    expect(errors[3]).toMatch(/too far in the future/);
    expect(errors[4]).toMatch(/control character \(U\+0000\)/);
    expect(errors[5]).toMatch(/control character \(U\+0085\)/);
    expect(errors[6]).toMatch(/control character \(U\+007F\)/);
    expect(errors[7]).toMatch(/unknown field/);
    expect(await stored('bad_input_json{host="a"}', 2)).toEqual([1, 2]);
  });

  it('POST /v1/points refuses a body it cannot read at all, naming it, with 400 or 413', async () => {
    const now = Date.now();
    const nan = await call('POST', '/v1/points', key, `{"points":[{"series":"a","ts":${now},"value":NaN}]}`);
    expect([nan.status, nan.body.code]).toEqual([400, 'MALFORMED_BODY']);
    expect(nan.body.error).toMatch(/^body: not valid JSON/);
    const extra = await call('POST', '/v1/points', key, { points: [], extra: 1 });
    expect([extra.status, extra.body.error]).toEqual([
      400,
      'extra: unknown field (the body has only "points")',
    ]);
    const notArray = await call('POST', '/v1/points', key, { points: {} });
    expect([notArray.status, notArray.body.error]).toEqual([400, 'points: must be an array, got an object']);
    const huge = await call('POST', '/v1/points', key, `{"points":[${'0,'.repeat(5 * 1024 * 1024)}0]}`);
    expect(huge.status).toBe(413);
  });

  it('POST /v1/write (Influx) refuses each bad line by its number, naming the part, and stores the others', async () => {
    const now = Date.now();
    const lines = [
      `bad_input_influx,host=a value=1 ${now - 3000}`,
      `bad_input_influx,host=a value=NaN ${now}`,
      `bad_input_influx,host=a value=1e999 ${now}`,
      `bad_input_influx,host=a value=1 ${now - 30 * DAY}`,
      `bad_input_influx,host=a\u0000 value=1 ${now}`,
      `bad_input_in\u0001flux,host=a value=1 ${now}`,
      `bad_input_influx,host=a\u0085 value=1 ${now}`,
      `bad_input_influx,host=a value=1 ${now} trailing`,
      `bad_input_influx,host=a value=2 ${now - 2000}`,
    ];
    const written = await call<Ingested>(
      'POST',
      '/v1/write?precision=ms',
      key,
      lines.join('\n'),
      'text/plain',
    );
    expect(written.status).toBe(202);
    expect(written.body.accepted).toBe(2);
    expect(written.body.rejected).toEqual([
      { index: 2, error: expect.stringMatching(/^line 2 field "value": "NaN" is not a number/) },
      { index: 3, error: 'line 3 field "value": must be a finite number, got Infinity' },
      { index: 4, error: expect.stringMatching(/^line 4 timestamp: .* too far in the past/) },
      { index: 5, error: 'line 5 tag "host": contains a control character (U+0000)' },
      { index: 6, error: 'line 6 measurement: contains a control character (U+0001)' },
      { index: 7, error: 'line 7 tag "host": value contains a control character (U+0085)' },
      { index: 8, error: expect.stringMatching(/^line 8 timestamp: unexpected/) },
    ]);
    expect(await stored('bad_input_influx_value{host="a"}', 2)).toEqual([1, 2]);

    const precision = await call('POST', '/v1/write?precision=days', key, lines[0], 'text/plain');
    expect([precision.status, precision.body.code]).toEqual([400, 'BAD_PARAMETER']);
    expect(precision.body.error).toMatch(/^precision: must be one of/);
  });

  it('POST /api/v1/write refuses bad samples and series by index, naming the field, and stores the others', async () => {
    const now = Date.now();
    const body = remoteWrite([
      {
        labels: { __name__: 'bad_input_rw', host: 'a' },
        samples: [
          [1, now - 3000],
          [NaN, now - 2900],
          [Infinity, now - 2800],
          [3, now - 30 * DAY],
          [2, now - 2000],
        ],
      },
      { labels: { __name__: 'bad\u0000input' }, samples: [[1, now]] },
      { labels: { __name__: 'bad_input_rw', host: 'a\u0001' }, samples: [[1, now]] },
      { labels: { host: 'a' }, samples: [[1, now]] },
      { labels: { __name__: 'bad.input' }, samples: [[1, now]] },
    ]);
    const written = await call<Ingested>('POST', '/api/v1/write', key, body, 'application/x-protobuf');
    expect(written.status).toBe(202);
    expect(written.body.accepted).toBe(2);
    expect(written.body.rejected).toEqual([
      { index: 0, error: 'timeseries[0].samples[1].value: must be a finite number, got NaN' },
      { index: 0, error: 'timeseries[0].samples[2].value: must be a finite number, got Infinity' },
      {
        index: 0,
        error: expect.stringMatching(/^timeseries\[0\]\.samples\[3\]\.timestamp: .* too far in the past/),
      },
      { index: 1, error: 'timeseries[1].labels.__name__: contains a control character (U+0000)' },
      { index: 2, error: 'timeseries[2].labels.host: value contains a control character (U+0001)' },
      { index: 3, error: 'timeseries[3].labels: no __name__ label (the metric name)' },
      { index: 4, error: expect.stringMatching(/^timeseries\[4\]\.labels\.__name__: must match/) },
    ]);
    expect(await stored('bad_input_rw{host="a"}', 2)).toEqual([1, 2]);

    const garbage = await call(
      'POST',
      '/api/v1/write',
      key,
      Buffer.from('not snappy'),
      'application/x-protobuf',
    );
    expect([garbage.status, garbage.body.code]).toEqual([400, 'MALFORMED_BODY']);
    expect(garbage.body.error).toMatch(/^body: not snappy-compressed/);
  });

  it('admin endpoints answer 400 naming the field: unknown fields, wrong types, infinities, control characters', async () => {
    const unknown = await call('POST', '/v1/tenants', ADMIN, { name: 'x', extra: 1 });
    expect([unknown.status, unknown.body.field, unknown.body.error]).toEqual([
      400,
      'extra',
      'extra: unknown field',
    ]);
    const nested = await call('PATCH', '/v1/tenants/whatever', ADMIN, { retention: { points: 3 } });
    expect([nested.status, nested.body.field]).toEqual([400, 'retention.points']);
    const type = await call('POST', '/v1/tenants', ADMIN, { name: 5 });
    expect([type.status, type.body.field]).toEqual([400, 'name']);
    const infinite = await call(
      'POST',
      '/v1/tenants',
      ADMIN,
      '{"name":"x","retention":{"points_days":1e400}}',
    );
    expect([infinite.status, infinite.body.field]).toEqual([400, 'retention.points_days']);
    const control = await call('POST', '/v1/tenants', ADMIN, { name: 'a\u0007b' });
    expect([control.status, control.body.code, control.body.field]).toEqual([400, 'INVALID_TENANT', 'name']);
    const scope = await call('POST', '/v1/keys', key, { name: 'k', scopes: ['read', 'write'] });
    expect([scope.status, scope.body.field]).toEqual([400, 'scopes.1']);
    const keyName = await call('POST', '/v1/keys', key, { name: 'k\u009b', scopes: ['read'] });
    expect([keyName.status, keyName.body.code, keyName.body.field]).toEqual([400, 'INVALID_API_KEY', 'name']);
    // Nothing was made by any of them.
    const keys = await call<{ keys: unknown[] }>('GET', '/v1/keys', key);
    expect(keys.body.keys).toHaveLength(1);
  });

  it('query endpoints answer 400 naming the parameter, never a 500, for NaN, infinities and instants out of range', async () => {
    const cases: Array<[string, string]> = [
      ['/v1/anomalies?min_score=NaN', 'min_score'],
      ['/v1/anomalies?limit=Infinity', 'limit'],
      ['/v1/anomalies?bogus=1', 'bogus'],
      ['/v1/anomalies?from=yesterday', 'from'],
      ['/v1/series/cpu/points?to=not-a-time', 'to'],
      ['/v1/usage?granularity=week', 'granularity'],
    ];
    for (const [path, field] of cases) {
      const answer = await call('GET', path, key);
      expect([path, answer.status, answer.body.field]).toEqual([path, 400, field]);
      expect(answer.body.error.startsWith(`${field}: `)).toBe(true);
    }
    for (const path of [
      '/v1/audit?from=99999999999999999999',
      '/v1/anomalies?to=-99999999999999999999',
      '/v1/series/cpu/points?from=9999999999999999',
      '/v1/usage?from=99999999999999999999',
    ]) {
      const answer = await call('GET', path, key);
      expect([path, answer.status, answer.body.code]).toEqual([path, 400, 'INVALID_QUERY']);
      expect(answer.body.error).toMatch(/^(from|to) /);
    }
  });

  it('refuses malformed or wrong credentials with 401 and a code, never a 500', async () => {
    const last = key.at(-1) === 'A' ? 'B' : 'A';
    const cases: Array<[string, string | undefined, string]> = [
      ['no header', undefined, 'MISSING_CREDENTIALS'],
      ['an empty header', '', 'MISSING_CREDENTIALS'],
      ['no scheme', key, 'MALFORMED_CREDENTIALS'],
      ['another scheme', `Basic ${key}`, 'MALFORMED_CREDENTIALS'],
      ['the scheme alone', 'Bearer', 'MALFORMED_CREDENTIALS'],
      ['two tokens', `Bearer ${key} ${key}`, 'MALFORMED_CREDENTIALS'],
      ['another prefix', `Bearer pk_${key.slice(3)}`, 'MALFORMED_CREDENTIALS'],
      ['one character short', `Bearer ${key.slice(0, -1)}`, 'MALFORMED_CREDENTIALS'],
      ['one character long', `Bearer ${key}A`, 'MALFORMED_CREDENTIALS'],
      ['a character outside base64url', `Bearer ${key.slice(0, -1)}+`, 'MALFORMED_CREDENTIALS'],
      ['a non-ASCII character', `Bearer ${key.slice(0, -1)}é`, 'MALFORMED_CREDENTIALS'],
      ['a long token', `Bearer ${'x'.repeat(8000)}`, 'MALFORMED_CREDENTIALS'],
      ['the admin token', `Bearer ${ADMIN}`, 'MALFORMED_CREDENTIALS'],
      ['one character changed', `Bearer ${key.slice(0, -1)}${last}`, 'INVALID_CREDENTIALS'],
      ['an unknown key', `Bearer sk_${'A'.repeat(43)}`, 'INVALID_CREDENTIALS'],
    ];
    for (const [what, authorization, code] of cases) {
      const answer = await send('GET', '/v1/series', authorization);
      expect([what, answer.status, answer.body.code]).toEqual([what, 401, code]);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="seismo"');
      expect(answer.body.error).not.toContain(key.slice(3, 20));
    }
    // The scheme is case-insensitive and may be followed by several spaces (RFC 9110).
    expect((await send('GET', '/v1/series', `bearer ${key}`)).status).toBe(200);
    expect((await send('GET', '/v1/series', `BEARER   ${key}`)).status).toBe(200);
    // A header beyond what Node reads is refused before any route: a 4xx still.
    expect((await send('GET', '/v1/series', `Bearer ${'x'.repeat(20_000)}`)).status).toBe(431);

    const wrongAdmin = await send('POST', '/v1/tenants', `Bearer ${ADMIN}x`, { name: 'x' });
    expect([wrongAdmin.status, wrongAdmin.body.code]).toEqual([401, 'INVALID_CREDENTIALS']);
    const malformedAdmin = await send('POST', '/v1/tenants', `Token ${ADMIN}`, { name: 'x' });
    expect([malformedAdmin.status, malformedAdmin.body.code]).toEqual([401, 'MALFORMED_CREDENTIALS']);
  });
});
