import { TenantDataRepository, type TenantId } from '@seismo/storage';
import { type AuditContext, DEPLOYMENT_ADMIN, SYSTEM } from '../src/audit';
import { TenancyExceptionCode } from '../src/tenancy.exception';
import { TenantEraser } from '../src/tenant.eraser';
import { useTenancyStorage } from './tenancy.harness';

const BY: AuditContext = { actor: DEPLOYMENT_ADMIN, sourceIp: '127.0.0.1' };
const DAY_MS = 86_400_000;
const QUIET = { log: () => undefined, warn: () => undefined };

const storage = useTenancyStorage();

async function rowsOf(tenant: TenantId): Promise<Record<string, number>> {
  return new TenantDataRepository(storage.clickhouse().connection).count(tenant);
}

describe('closing a tenant', () => {
  it('stops its keys at once here and elsewhere after a reload, keeps them stopped, and reopens', async () => {
    const here = await storage.directory();
    const elsewhere = await storage.directory();
    const { tenant, apiKey } = await here.create({ name: 'Closing' }, BY);
    await elsewhere.reload();

    const now = Date.UTC(2026, 10, 23);
    const closed = await here.closeTenant(tenant.id, 30, BY, now);
    expect(closed.closure).toEqual({ closedAt: now, purgeAfter: now + 30 * DAY_MS });
    expect(here.authenticate(apiKey)).toBeUndefined();
    expect(elsewhere.authenticate(apiKey)).toBeDefined();
    await elsewhere.reload();
    expect(elsewhere.authenticate(apiKey)).toBeUndefined();
    expect(elsewhere.get(tenant.id)?.closure).toEqual(closed.closure);

    // A later change of settings keeps it closed; closing again moves only the purge date.
    await here.updateTenant(tenant.id, { name: 'Closing Ltd' }, BY);
    expect(here.authenticate(apiKey)).toBeUndefined();
    const shorter = await here.closeTenant(tenant.id, 0, BY, now + DAY_MS);
    expect(shorter.closure).toEqual({ closedAt: now, purgeAfter: now });
    expect(here.closedDue(now - 1)).toEqual([]);
    expect(here.closedDue(now).map((t) => t.id)).toEqual([tenant.id]);

    const reopened = await here.reopenTenant(tenant.id, BY);
    expect(reopened.closure).toBeUndefined();
    expect(here.authenticate(apiKey)?.id).toBe(tenant.id);
    const audit = await here.auditLog.find(tenant.id, { limit: 10 });
    expect(audit.map((e) => e.action)).toEqual([
      'tenant.reopened',
      'tenant.closed',
      'tenant.updated',
      'tenant.closed',
      'key.created',
      'tenant.created',
    ]);
  });

  it('refuses a grace period outside 0..90 days, naming it', async () => {
    const tenants = await storage.directory();
    const { tenant } = await tenants.create({ name: 'Grace' }, BY);
    for (const days of [-1, 91, 1.5]) {
      await expect(tenants.closeTenant(tenant.id, days, BY)).rejects.toMatchObject({
        code: TenancyExceptionCode.INVALID_TENANT,
        field: 'graceDays',
      });
    }
    expect(tenants.get(tenant.id)?.closure).toBeUndefined();
  });
});

describe('erasing a tenant', () => {
  it("deletes its rows, tells this process's listeners at once and another's at its reload, and keeps one record", async () => {
    const here = await storage.directory();
    const elsewhere = await storage.directory();
    const goneHere: TenantId[] = [];
    const goneElsewhere: TenantId[] = [];
    here.onGone((id) => goneHere.push(id));
    elsewhere.onGone((id) => goneElsewhere.push(id));
    const { tenant, apiKey } = await here.create({ name: 'Leaving', adminEmail: 'ann@leaving.example' }, BY);
    const { tenant: other, apiKey: otherKey } = await here.create({ name: 'Staying' }, BY);
    await elsewhere.reload();
    // A use of the key not yet stored must not bring the tenant's id back after the erasure.
    expect(here.authenticate(apiKey)).toBeDefined();
    here.authenticate(otherKey);

    const eraser = new TenantEraser(here, new TenantDataRepository(storage.clickhouse().connection), {
      logger: QUIET,
    });
    const erased = await eraser.erase(tenant.id, BY);
    eraser.close();
    expect(erased).toMatchObject({ tenants: 1, members: 1, api_keys: 1, audit_log: 3 });
    expect(goneHere).toEqual([tenant.id]);
    expect(here.get(tenant.id)).toBeUndefined();
    expect(here.authenticate(apiKey)).toBeUndefined();
    await here.flushUsage();
    await elsewhere.reload();
    expect(goneElsewhere).toEqual([tenant.id]);
    expect(elsewhere.authenticate(apiKey)).toBeUndefined();

    const left = await rowsOf(tenant.id);
    expect(Object.entries(left).filter(([, n]) => n > 0)).toEqual([['audit_log', 1]]);
    expect(await here.auditLog.find(tenant.id, { limit: 10 })).toEqual([
      expect.objectContaining({ action: 'tenant.erased', target: tenant.id, details: { rows: erased } }),
    ]);
    expect(here.authenticate(otherKey)?.id).toBe(other.id);
    expect((await rowsOf(other.id)).api_key_usage).toBe(1);
    await expect(eraser.erase(tenant.id, BY)).rejects.toMatchObject({
      code: TenancyExceptionCode.UNKNOWN_TENANT,
    });
  });

  it('purges the closed tenants whose grace period is over, and only those', async () => {
    const tenants = await storage.directory();
    const now = Date.now();
    const { tenant: due } = await tenants.create({ name: 'Due' }, BY);
    const { tenant: waiting } = await tenants.create({ name: 'Waiting' }, BY);
    const { tenant: open } = await tenants.create({ name: 'Open' }, BY);
    await tenants.closeTenant(due.id, 0, BY, now - 1000);
    await tenants.closeTenant(waiting.id, 1, BY, now);

    const eraser = new TenantEraser(tenants, new TenantDataRepository(storage.clickhouse().connection), {
      logger: QUIET,
    });
    expect(await eraser.purgeDue(now)).toEqual([due.id]);
    eraser.close();
    expect(tenants.get(due.id)).toBeUndefined();
    expect(tenants.get(waiting.id)?.closure).toBeDefined();
    expect(tenants.get(open.id)).toBeDefined();
    const [record] = await tenants.auditLog.find(due.id, { limit: 10 });
    expect(record).toMatchObject({ action: 'tenant.erased', actor: SYSTEM.actor });
  });
});
