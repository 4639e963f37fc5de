import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type SeismoConfig } from '@seismo/config';
import { resolveAdminToken } from '@seismo/tenancy';
import { ReplayError } from './replay.error';

export const DEMO_TENANT = 'demo';
/** Kept next to the admin token, so a restart on the same data directory finds the same tenant and its data. */
export const DEMO_KEY_FILE = 'demo-key';

/**
 * The API key of the demo tenant on the server at `url`: the one kept in the data
 * directory while the server still takes it, otherwise a new tenant's, made through the
 * API with the admin token (as a user would) and kept for the next start.
 */
export async function demoTenantKey(url: string, config: SeismoConfig): Promise<string> {
  const path = join(config.dataDir, DEMO_KEY_FILE);
  const kept = await readFile(path, 'utf8').then(
    (text) => text.trim(),
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    },
  );
  // A key whose tenant is gone (the storage was reset, or is another server's) is replaced.
  if (kept && (await works(url, kept))) return kept;
  const key = await createTenant(url, config);
  await writeFile(path, `${key}\n`, { mode: 0o600 });
  // writeFile's mode applies only to a new file; an old one may have been readable by others.
  await chmod(path, 0o600);
  return key;
}

async function works(url: string, key: string): Promise<boolean> {
  const response = await fetch(new URL('/v1/series', url), { headers: { authorization: `Bearer ${key}` } });
  await response.body?.cancel();
  return response.ok;
}

async function createTenant(url: string, config: SeismoConfig): Promise<string> {
  // The token the server itself resolved: the configured one, or the one it keeps in the data directory.
  const admin = await resolveAdminToken({
    ...(config.adminToken ? { configured: config.adminToken } : {}),
    dataDir: config.dataDir,
  });
  const response = await fetch(new URL('/v1/tenants', url), {
    method: 'POST',
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: DEMO_TENANT }),
  });
  const body = (await response.json().catch(() => ({}))) as { api_key?: string; error?: unknown };
  if (response.status !== 201 || typeof body.api_key !== 'string') {
    throw new ReplayError(
      `cannot create the ${DEMO_TENANT} tenant: ${response.status} ${response.statusText}: ${String(body.error ?? '')}`,
    );
  }
  return body.api_key;
}
