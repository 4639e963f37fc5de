import { checkTargetUrl, outcomeOf, retryAfterOf } from './outbound-http';

const closed = { allowPrivate: false };

describe('checkTargetUrl', () => {
  it.each([
    ['ftp://hooks.example/x', 'not an http(s) URL'],
    ['not a url', 'not a URL'],
    ['https://user:pw@hooks.example/x', 'credentials'],
    ['http://localhost:8080/x', 'localhost'],
    ['http://api.localhost/x', 'api.localhost'],
    ['http://127.0.0.1/x', 'loopback'],
    ['http://10.0.0.1/x', 'private'],
    ['http://169.254.169.254/latest/meta-data', 'link-local'],
    ['http://[::1]:80/x', 'loopback'],
    ['http://[::ffff:192.168.0.1]/x', 'private'],
    ['http://[fd00::1]/x', 'unique local'],
  ])('refuses %s (%s)', (url, reason) => {
    expect(checkTargetUrl(url, closed)).toContain(reason);
  });

  it('takes public names and addresses, *.example ones included', () => {
    expect(checkTargetUrl('https://hooks.slack.com/services/T/B/X', closed)).toBeUndefined();
    expect(checkTargetUrl('https://hooks.acme.example/seismo', closed)).toBeUndefined();
    expect(checkTargetUrl('http://8.8.8.8/x', closed)).toBeUndefined();
  });

  it('takes private addresses when the deployment allows them, never credentials', () => {
    expect(checkTargetUrl('http://127.0.0.1:9/x', { allowPrivate: true })).toBeUndefined();
    expect(checkTargetUrl('http://a:b@127.0.0.1:9/x', { allowPrivate: true })).toContain('credentials');
  });
});

describe('outcomeOf', () => {
  const answer = (status: number, headers: Record<string, string> = {}, body = '') => ({
    status,
    headers,
    body,
  });

  it('maps statuses to retryable or final failures', () => {
    expect(outcomeOf(answer(204))).toEqual({ ok: true, status: 204 });
    for (const status of [408, 425, 429, 500, 502, 503]) {
      expect(outcomeOf(answer(status))).toMatchObject({ ok: false, retryable: true, status });
    }
    for (const status of [400, 401, 403, 404, 422]) {
      expect(outcomeOf(answer(status))).toEqual({
        ok: false,
        retryable: false,
        status,
        error: `HTTP ${status}`,
      });
    }
    expect(outcomeOf(answer(410, {}, 'gone away'))).toEqual({
      ok: false,
      retryable: false,
      status: 410,
      error: 'HTTP 410: gone away',
      gone: true,
    });
    expect(outcomeOf(answer(301, { location: 'http://10.0.0.1/' }))).toMatchObject({
      retryable: false,
      error: 'HTTP 301: redirect to http://10.0.0.1/ not followed',
    });
  });

  it('names the status and a short excerpt of the body', () => {
    const outcome = outcomeOf(answer(500, {}, `oops\n${'x'.repeat(1000)}`));
    expect(outcome.ok === false && outcome.error.startsWith('HTTP 500: oops x')).toBe(true);
    expect(outcome.ok === false && outcome.error.length).toBeLessThan(220);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterOf('120', now)).toBe(120_000);
    expect(retryAfterOf('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterOf('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(retryAfterOf('soon', now)).toBeUndefined();
    expect(retryAfterOf(undefined, now)).toBeUndefined();
    expect(outcomeOf(answer(429, { 'retry-after': '7' }))).toMatchObject({
      retryable: true,
      retryAfterMs: 7000,
    });
  });
});
