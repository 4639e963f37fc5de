import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '@seismo/config';
import { TenancyException, TenancyExceptionCode } from './tenancy.exception';

export const ADMIN_TOKEN_FILE = 'admin-token';
export const MIN_ADMIN_TOKEN_LENGTH = 16;

// Visible ASCII only: a token with a space or a line break could never be sent in an
// `Authorization: Bearer <token>` header, and would lock the admin out.
const ADMIN_TOKEN = new RegExp(`^[\\x21-\\x7e]{${MIN_ADMIN_TOKEN_LENGTH},}$`);

export interface AdminTokenSource {
  /** SEISMO_ADMIN_TOKEN; unset or empty: the token kept in `dataDir`. */
  readonly configured?: string;
  readonly dataDir: string;
}

export interface ResolvedAdminToken {
  readonly token: string;
  /** Made by this call: print it once, it is not shown again. */
  readonly generated: boolean;
}

/**
 * The admin token: SEISMO_ADMIN_TOKEN if set, otherwise the one kept in
 * `<dataDir>/admin-token`, made the first time (32 random bytes, base64url) and readable
 * by its owner only, so an embedded install is never left without one or with a default.
 */
export async function resolveAdminToken(source: AdminTokenSource): Promise<ResolvedAdminToken> {
  if (source.configured) {
    if (!ADMIN_TOKEN.test(source.configured)) {
      throw new ConfigError([
        {
          variable: 'SEISMO_ADMIN_TOKEN',
          problem: `must be at least ${MIN_ADMIN_TOKEN_LENGTH} visible ASCII characters, without spaces`,
        },
      ]);
    }
    return { token: source.configured, generated: false };
  }
  const path = join(source.dataDir, ADMIN_TOKEN_FILE);
  try {
    return { token: await readTokenFile(path), generated: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const token = randomBytes(32).toString('base64url');
  try {
    await mkdir(source.dataDir, { recursive: true });
    // 'wx' fails if the file appeared meanwhile (another process starting on the same
    // directory): both must end up with the same token, so the loser reads the winner's.
    await writeFile(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return { token: await readTokenFile(path), generated: false };
    }
    throw unusable(`cannot write the admin token to ${path}`, error);
  }
  return { token, generated: true };
}

/**
 * Whether `given` is the admin token, in time that does not depend on where they differ.
 * Both are hashed first: timingSafeEqual needs equal lengths, and comparing lengths
 * directly would tell the token's length.
 */
export function verifyAdminToken(given: string, token: string): boolean {
  if (typeof given !== 'string') return false;
  return timingSafeEqual(sha256(given), sha256(token));
}

async function readTokenFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw error;
    throw unusable(`cannot read the admin token in ${path}`, error);
  }
  const token = text.trim();
  if (!ADMIN_TOKEN.test(token)) {
    throw unusable(
      `${path} does not hold an admin token (at least ${MIN_ADMIN_TOKEN_LENGTH} visible ASCII characters): ` +
        'delete it to have a new one made, or set SEISMO_ADMIN_TOKEN',
    );
  }
  // A copy or a restore may have widened the permissions; the token is a password.
  if (process.platform !== 'win32' && ((await stat(path)).mode & 0o077) !== 0) {
    await chmod(path, 0o600);
  }
  return token;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function unusable(message: string, cause?: unknown): TenancyException {
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new TenancyException(TenancyExceptionCode.ADMIN_TOKEN_UNUSABLE, message + detail, undefined, {
    cause,
  });
}
