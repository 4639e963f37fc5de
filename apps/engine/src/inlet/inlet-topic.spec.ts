import { parseTenantId } from '@seismo/storage';
import { INLET_TOPIC_PATTERN, inletTopicOf, tenantOfInletTopic } from './inlet-topic';

describe('inlet topics', () => {
  it('name a tenant, and give it back', () => {
    const tenant = parseTenantId('0b6c5a2e-7f1d-4c1e-9a55-3d2f0c9e8b71');
    expect(inletTopicOf(tenant)).toBe('seismo.in.0b6c5a2e-7f1d-4c1e-9a55-3d2f0c9e8b71');
    expect(tenantOfInletTopic(inletTopicOf(tenant))).toBe(tenant);
    expect(tenantOfInletTopic('seismo.in.Acme_2')).toBe('Acme_2');
  });

  it('match the tenant id rule exactly', () => {
    for (const id of ['a', 'Z9', 'a-b_c', 'x'.repeat(64)]) {
      expect(INLET_TOPIC_PATTERN.test(`seismo.in.${id}`)).toBe(true);
      expect(() => parseTenantId(id)).not.toThrow();
    }
    for (const id of ['', '-a', '_a', 'a.b', 'a b', 'x'.repeat(65), 'é']) {
      expect(INLET_TOPIC_PATTERN.test(`seismo.in.${id}`)).toBe(false);
      expect(() => parseTenantId(id)).toThrow();
    }
  });

  it('are only the seismo.in. topics', () => {
    for (const topic of ['seismo.points', 'seismo.dlq', 'seismo.in', 'xseismo.in.acme', 'seismo.in.acme.x']) {
      expect(tenantOfInletTopic(topic)).toBeUndefined();
    }
  });
});
