import { parseTenantId } from '@seismo/storage';
import { DEFAULT_TENANT_LLM, newTenantId, type Tenant, tenantRetention } from './tenant';

describe('newTenantId', () => {
  it('is a random id that parseTenantId accepts', () => {
    const ids = Array.from({ length: 100 }, newTenantId);
    for (const id of ids) expect(parseTenantId(id)).toBe(id);
    expect(new Set(ids).size).toBe(100);
  });
});

describe('tenantRetention', () => {
  const tenant: Tenant = {
    id: parseTenantId('acme'),
    name: 'Acme',
    pointsDays: 30,
    anomaliesDays: 395,
    zeroRetention: false,
    plan: 'team',
    limitOverrides: {},
    llm: DEFAULT_TENANT_LLM,
  };

  it("is the tenant's days", () => {
    expect(tenantRetention(tenant)).toEqual({ pointsDays: 30, anomaliesDays: 395 });
  });

  it('keeps no points under zero retention, and anomalies as usual', () => {
    expect(tenantRetention({ ...tenant, zeroRetention: true })).toEqual({
      pointsDays: 0,
      anomaliesDays: 395,
    });
  });
});
