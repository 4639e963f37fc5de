import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@seismo/config';
import { ADMIN_TOKEN_FILE, resolveAdminToken, verifyAdminToken } from './admin-token';
import { TenancyException, TenancyExceptionCode } from './tenancy.exception';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'seismo-admin-token-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const modeOf = (path: string): number => statSync(path).mode & 0o777;

describe('resolveAdminToken', () => {
  it('takes the configured token, and writes nothing', async () => {
    const token = 'a-long-enough-admin-token';
    expect(await resolveAdminToken({ configured: token, dataDir: dir })).toEqual({ token, generated: false });
    expect(() => statSync(join(dir, ADMIN_TOKEN_FILE))).toThrow();
  });

  it.each([
    ['too short', 'fifteen-chars!!'],
    ['with a space', 'sixteen chars ok'],
    ['with a line break', 'a-long-enough-admin-token\n'],
  ])('refuses a configured token %s, naming SEISMO_ADMIN_TOKEN', async (_, configured) => {
    const error = await resolveAdminToken({ configured, dataDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('SEISMO_ADMIN_TOKEN');
    expect((error as ConfigError).message).not.toContain(configured);
  });

  it('makes a token the first time, owner-only, in a data directory it creates', async () => {
    const dataDir = join(dir, 'data', 'nested');
    const first = await resolveAdminToken({ dataDir });
    expect(first.generated).toBe(true);
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const path = join(dataDir, ADMIN_TOKEN_FILE);
    expect(readFileSync(path, 'utf8')).toBe(`${first.token}\n`);
    if (process.platform !== 'win32') expect(modeOf(path)).toBe(0o600);
  });

  it('treats an empty SEISMO_ADMIN_TOKEN as unset', async () => {
    expect((await resolveAdminToken({ configured: '', dataDir: dir })).generated).toBe(true);
  });

  it('reuses the kept token on later starts', async () => {
    const first = await resolveAdminToken({ dataDir: dir });
    const second = await resolveAdminToken({ dataDir: dir });
    expect(second).toEqual({ token: first.token, generated: false });
  });

  it('gives concurrent starts on one directory the same token, made once', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => resolveAdminToken({ dataDir: dir })));
    expect(new Set(results.map((r) => r.token)).size).toBe(1);
    expect(results.filter((r) => r.generated)).toHaveLength(1);
  });

  it('takes a token written by hand, and narrows permissions that were widened', async () => {
    const path = join(dir, ADMIN_TOKEN_FILE);
    writeFileSync(path, '  hand-written-admin-token  \n');
    chmodSync(path, 0o644);
    expect(await resolveAdminToken({ dataDir: dir })).toEqual({
      token: 'hand-written-admin-token',
      generated: false,
    });
    if (process.platform !== 'win32') expect(modeOf(path)).toBe(0o600);
  });

  it('refuses a kept file that holds no usable token, naming it', async () => {
    const path = join(dir, ADMIN_TOKEN_FILE);
    writeFileSync(path, 'short\n');
    const error = await resolveAdminToken({ dataDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TenancyException);
    expect((error as TenancyException).code).toBe(TenancyExceptionCode.ADMIN_TOKEN_UNUSABLE);
    expect((error as TenancyException).message).toContain(path);
    expect(readFileSync(path, 'utf8')).toBe('short\n');
  });
});

describe('verifyAdminToken', () => {
  const token = 'a-long-enough-admin-token';

  it('accepts the token', () => {
    expect(verifyAdminToken(token, token)).toBe(true);
  });

  it.each(['', 'a-long-enough-admin-toke', `${token}x`, 'A-long-enough-admin-token'])(
    'refuses %j',
    (given) => {
      expect(verifyAdminToken(given, token)).toBe(false);
    },
  );

  it('refuses what is not a string', () => {
    expect(verifyAdminToken(undefined as unknown as string, token)).toBe(false);
  });
});
