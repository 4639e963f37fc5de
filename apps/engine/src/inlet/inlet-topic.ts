import { parseTenantId, type TenantId } from '@seismo/storage';

export const INLET_TOPIC_PREFIX = 'seismo.in.';

/**
 * The direct producers' topics, one per tenant: `seismo.in.<tenant id>`, the id as
 * parseTenantId takes it (1-64 letters, digits, '_' or '-', starting with a letter or digit).
 * The tenant is the topic's, never the message's: a producer allowed to write a topic (a
 * Kafka ACL per tenant) can only ever write points of that tenant.
 */
export const INLET_TOPIC_PATTERN = /^seismo\.in\.[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function inletTopicOf(tenant: TenantId): string {
  return INLET_TOPIC_PREFIX + tenant;
}

/** The tenant a topic belongs to; undefined for a topic that is not an inlet topic. */
export function tenantOfInletTopic(topic: string): TenantId | undefined {
  if (!INLET_TOPIC_PATTERN.test(topic)) return undefined;
  // The pattern admits exactly the ids parseTenantId does; it checks again all the same.
  return parseTenantId(topic.slice(INLET_TOPIC_PREFIX.length));
}
