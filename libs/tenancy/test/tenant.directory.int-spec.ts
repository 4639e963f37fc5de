import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultMigrationsDir, parseTenantId, StorageException } from '@seismo/storage';
import { splitSqlStatements } from '@seismo/storage/sql-script';
import { generateApiKey, hashApiKey } from '../src/api-key';
import { type AuditContext, DEPLOYMENT_ADMIN } from '../src/audit';
import { TenancyException, TenancyExceptionCode } from '../src/tenancy.exception';
import { DEFAULT_TENANT_LLM } from '../src/tenant';
import { UNKNOWN_RECHECK_MS } from '../src/tenant.directory';
import { useTenancyStorage } from './tenancy.harness';

const BY: AuditContext = { actor: DEPLOYMENT_ADMIN, sourceIp: '127.0.0.1' };

const storage = useTenancyStorage();
/** A directory that only reloads when told, unless a test asks for a period. */
const directory = (reloadMs = 3_600_000) => storage.directory({ reloadMs });

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('TenantDirectory', () => {
  it('creates a tenant whose key works at once, with the default retention', async () => {
    const tenants = await directory();
    const { tenant, apiKey } = await tenants.create({ name: 'Acme' }, BY);

    expect(parseTenantId(tenant.id)).toBe(tenant.id);
    expect(tenant).toEqual({
      id: tenant.id,
      name: 'Acme',
      pointsDays: 30,
      anomaliesDays: 395,
      zeroRetention: false,
      plan: 'team',
      limitOverrides: {},
      llm: DEFAULT_TENANT_LLM,
    });
    expect(apiKey).toMatch(/^sk_[A-Za-z0-9_-]{43}$/);
    expect(tenants.authenticate(apiKey)).toEqual(tenant);
    expect(tenants.get(tenant.id)).toEqual(tenant);
    expect(tenants.retentionOf(tenant.id)).toEqual({ pointsDays: 30, anomaliesDays: 395 });
  });

  it('has stored both rows when create resolves, and the key only as its hash', async () => {
    const { tenant, apiKey } = await (
      await directory()
    ).create({ name: 'Initech', pointsDays: 7, anomaliesDays: 90, zeroRetention: true }, BY);

    expect(
      await storage
        .clickhouse()
        .rows(
          'SELECT name, points_days, anomalies_days, zero_retention FROM tenants WHERE id = {id:String}',
          {
            id: tenant.id,
          },
        ),
    ).toEqual([{ name: 'Initech', points_days: 7, anomalies_days: 90, zero_retention: 1 }]);
    expect(
      await storage
        .clickhouse()
        .rows('SELECT key_hash, revoked FROM api_keys WHERE tenant_id = {id:String}', {
          id: tenant.id,
        }),
    ).toEqual([{ key_hash: hashApiKey(apiKey), revoked: 0 }]);
    const rowsHolding = async (text: string): Promise<number> => {
      const [{ n }] = await storage
        .clickhouse()
        .rows<{ n: string }>(
          'SELECT count() AS n FROM api_keys WHERE position(toString(tuple(*)), {text:String}) > 0',
          { text },
        );
      return Number(n);
    };
    expect(await rowsHolding(hashApiKey(apiKey))).toBe(1);
    expect(await rowsHolding(apiKey.slice(3))).toBe(0);
  });

  it('keeps a new key usable when a reload was running during create', async () => {
    const tenants = await directory();
    const reloading = tenants.reload();
    const { tenant, apiKey } = await tenants.create({ name: 'Racing' }, BY);
    await reloading;
    expect(tenants.authenticate(apiKey)).toEqual(tenant);
  });

  it('is seen by another directory after its reload', async () => {
    const writer = await directory();
    const reader = await directory();
    const { tenant, apiKey } = await writer.create({ name: 'Globex' }, BY);

    expect(reader.authenticate(apiKey)).toBeUndefined();
    expect(reader.get(tenant.id)).toBeUndefined();
    await reader.reload();
    expect(reader.authenticate(apiKey)).toEqual(tenant);
    expect(reader.get(tenant.id)).toEqual(tenant);
  });

  it('finds a tenant another directory just made, and reads again for an unknown id at most every 10 s', async () => {
    const reader = await directory();
    const writer = await directory();
    const { tenant } = await writer.create({ name: 'Initech' }, BY);
    expect(reader.get(tenant.id)).toBeUndefined();
    expect(await reader.find(tenant.id)).toEqual(tenant);

    const reloads = jest.spyOn(reader, 'reload');
    const ghost = parseTenantId('00000000-0000-4000-8000-00000000dead');
    const t0 = Date.now();
    expect(await reader.find(ghost, t0)).toBeUndefined();
    expect(await reader.find(ghost, t0 + UNKNOWN_RECHECK_MS - 1)).toBeUndefined();
    expect(reloads).toHaveBeenCalledTimes(1);
    expect(await reader.find(ghost, t0 + UNKNOWN_RECHECK_MS)).toBeUndefined();
    expect(reloads).toHaveBeenCalledTimes(2);
    // A known tenant costs no read.
    expect(await reader.find(tenant.id)).toEqual(tenant);
    expect(reloads).toHaveBeenCalledTimes(2);
  });

  it('is seen by a directory opened later on the same data', async () => {
    const { tenant, apiKey } = await (await directory()).create({ name: 'Hooli' }, BY);
    expect((await directory()).authenticate(apiKey)).toEqual(tenant);
  });

  it('reloads on its own every reloadMs, and no more once closed', async () => {
    const writer = await directory();
    const reader = await directory(50);
    const first = await writer.create({ name: 'Umbrella' }, BY);
    await until(() => reader.authenticate(first.apiKey) !== undefined);

    reader.close();
    const second = await writer.create({ name: 'Cyberdyne' }, BY);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(reader.authenticate(second.apiKey)).toBeUndefined();
    expect(reader.authenticate(first.apiKey)).toEqual(first.tenant);
  });

  it('refuses wrong and malformed keys', async () => {
    const tenants = await directory();
    const { apiKey } = await tenants.create({ name: 'Soylent' }, BY);
    const flipped = apiKey.slice(0, -1) + (apiKey.endsWith('A') ? 'B' : 'A');

    for (const candidate of [
      generateApiKey(),
      flipped,
      '',
      'sk_',
      apiKey.slice(3),
      `${apiKey} `,
      ` ${apiKey}`,
      apiKey.toUpperCase(),
      hashApiKey(apiKey),
    ]) {
      expect(tenants.authenticate(candidate)).toBeUndefined();
    }
    expect(tenants.authenticate(undefined as unknown as string)).toBeUndefined();
  });

  it('gives two tenants different ids and keys, each key its own tenant', async () => {
    const tenants = await directory();
    const a = await tenants.create({ name: 'Same name' }, BY);
    const b = await tenants.create({ name: 'Same name' }, BY);

    expect(a.tenant.id).not.toBe(b.tenant.id);
    expect(a.apiKey).not.toBe(b.apiKey);
    expect(tenants.authenticate(a.apiKey)?.id).toBe(a.tenant.id);
    expect(tenants.authenticate(b.apiKey)?.id).toBe(b.tenant.id);
  });

  it('keeps no points for a zero-retention tenant, and anomalies as asked', async () => {
    const tenants = await directory();
    const { tenant } = await tenants.create(
      {
        name: 'Vault',
        pointsDays: 10,
        anomaliesDays: 20,
        zeroRetention: true,
      },
      BY,
    );

    expect(tenants.retentionOf(tenant.id)).toEqual({ pointsDays: 0, anomaliesDays: 20 });
    await tenants.reload();
    expect(tenants.get(tenant.id)).toEqual(tenant);
    expect(tenants.retentionOf(tenant.id)).toEqual({ pointsDays: 0, anomaliesDays: 20 });
  });

  it('throws UNKNOWN_TENANT for the retention of a tenant that does not exist', async () => {
    const tenants = await directory();
    const error = (() => {
      try {
        tenants.retentionOf(parseTenantId('nobody'));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TenancyException);
    expect((error as TenancyException).code).toBe(TenancyExceptionCode.UNKNOWN_TENANT);
    expect(tenants.get(parseTenantId('nobody'))).toBeUndefined();
  });

  it('refuses invalid input, naming the field, and stores nothing', async () => {
    const tenants = await directory();
    const before = await storage.clickhouse().rows<{ n: string }>('SELECT count() AS n FROM tenants');
    const error = await tenants.create({ name: 'Acme', pointsDays: 0 }, BY).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TenancyException);
    expect((error as TenancyException).field).toBe('pointsDays');
    expect(await storage.clickhouse().rows('SELECT count() AS n FROM tenants')).toEqual(before);
  });

  it('drops a key revoked by a newer row at the next reload', async () => {
    const tenants = await directory();
    const { tenant, apiKey } = await tenants.create({ name: 'Revoked Inc' }, BY);
    // Revocation is issue 5's to write; the row it will write is made by hand here.
    await storage.clickhouse().command(
      `INSERT INTO api_keys (key_hash, tenant_id, created_at, revoked, version)
       SELECT key_hash, tenant_id, created_at, 1, version + 1 FROM api_keys FINAL WHERE key_hash = {hash:String}`,
      { hash: hashApiKey(apiKey) },
    );

    expect(tenants.authenticate(apiKey)).toEqual(tenant);
    await tenants.reload();
    expect(tenants.authenticate(apiKey)).toBeUndefined();
    expect(tenants.get(tenant.id)).toEqual(tenant);
  });

  it('keeps the last snapshot when a reload fails', async () => {
    const tenants = await directory();
    const { tenant, apiKey } = await tenants.create({ name: 'Steady' }, BY);
    await storage.clickhouse().command('RENAME TABLE api_keys TO api_keys_away');
    try {
      await expect(tenants.reload()).rejects.toBeInstanceOf(StorageException);
      expect(tenants.authenticate(apiKey)).toEqual(tenant);
    } finally {
      await storage.clickhouse().command('RENAME TABLE api_keys_away TO api_keys');
    }
  });

  it("runs migration 0003's statements a second time without harm", async () => {
    const sql = readFileSync(join(defaultMigrationsDir(), '0003_tenants.sql'), 'utf8');
    const tenants = await directory();
    const { tenant, apiKey } = await tenants.create({ name: 'Twice' }, BY);
    for (const statement of splitSqlStatements(sql)) await storage.clickhouse().command(statement);
    await tenants.reload();
    expect(tenants.authenticate(apiKey)).toEqual(tenant);
  });
});
