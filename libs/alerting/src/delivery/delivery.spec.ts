import { parseTenantId } from '@seismo/storage';
import { type Notification } from '../notification';
import { deliveriesOf, deliveryOf } from './delivery';

const notification: Notification = {
  id: 'inc_1:opened:1',
  tenantId: parseTenantId('acme'),
  incidentId: 'inc_1',
  kind: 'anomaly',
  state: 'opened',
  severity: 'critical',
  title: 'cpu anomalous',
  summary: 'cpu went up',
  openedAt: 0,
  at: 0,
  series: [],
  anomalyIds: [],
  links: {},
};

describe('deliveriesOf', () => {
  it('makes one delivery of a subscription with one receiver, as deliveryOf does', () => {
    const webhook = { id: 'sub_1', target: { kind: 'webhook', url: 'https://h', secret: 's' } } as const;
    expect(deliveriesOf(notification, webhook)).toEqual([deliveryOf(notification, webhook)]);
  });

  it('makes one delivery per email recipient, each id derived from the notification, subscription and recipient', () => {
    const email = { id: 'sub_1', target: { kind: 'email', to: ['a@x.example', 'b@x.example'] } } as const;
    const [a, b] = deliveriesOf(notification, email);
    expect(a).toEqual(
      deliveryOf(notification, { id: 'sub_1', target: { kind: 'email', to: ['a@x.example'] } }),
    );
    expect(b.target).toEqual({ kind: 'email', to: ['b@x.example'] });
    expect(a.id).not.toBe(b.id);
    expect(a.idempotencyKey).toBe(a.id);
    // The same recipient of another subscription, or of the next change, is another delivery.
    const [other] = deliveriesOf(notification, { ...email, id: 'sub_2' });
    const [next] = deliveriesOf({ ...notification, id: 'inc_1:updated:2' }, email);
    expect(new Set([a.id, other.id, next.id]).size).toBe(3);
  });
});
