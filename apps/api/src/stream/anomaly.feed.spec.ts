import { type AnomalyEvent } from '@seismo/engine/pipeline/anomaly-event';
import { parseTenantId } from '@seismo/storage';
import { AnomalyFeed } from './anomaly.feed';

const ACME = parseTenantId('acme');
const GLOBEX = parseTenantId('globex');

function event(tenant: string, id: string): AnomalyEvent {
  return {
    v: 1,
    tenant_id: tenant,
    id,
    series: 'cpu',
    ts: '2026-01-01T00:00:00.000Z',
    value: 99,
    score: 0.9,
    severity: 'critical',
    detectors: ['ensemble'],
    context: { ts: [], values: [] },
  };
}

const quiet = { error: jest.fn() };

describe('AnomalyFeed', () => {
  it("hands each event to its tenant's listeners only", () => {
    const feed = new AnomalyFeed({ logger: quiet });
    const acme: string[] = [];
    const acme2: string[] = [];
    const globex: string[] = [];
    feed.subscribe(ACME, (e) => acme.push(e.id));
    feed.subscribe(ACME, (e) => acme2.push(e.id));
    feed.subscribe(GLOBEX, (e) => globex.push(e.id));

    feed.publish(event('acme', 'a1'));
    feed.publish(event('globex', 'g1'));
    feed.publish(event('initech', 'i1'));

    expect(acme).toEqual(['a1']);
    expect(acme2).toEqual(['a1']);
    expect(globex).toEqual(['g1']);
  });

  it('stops calling a listener once it unsubscribed, and forgets a tenant nobody watches', () => {
    const feed = new AnomalyFeed({ logger: quiet });
    const seen: string[] = [];
    const listener = (e: AnomalyEvent): number => seen.push(e.id);
    const first = feed.subscribe(ACME, listener);
    // The same function subscribed twice is two subscriptions, each ended by its own call.
    const second = feed.subscribe(ACME, listener);
    expect(feed.watched(ACME)).toBe(true);

    feed.publish(event('acme', 'a1'));
    first();
    first();
    feed.publish(event('acme', 'a2'));
    second();
    feed.publish(event('acme', 'a3'));

    expect(seen).toEqual(['a1', 'a1', 'a2']);
    expect(feed.watched(ACME)).toBe(false);
  });

  it("hands every tenant's events to a listener of all, which makes every tenant watched", () => {
    const feed = new AnomalyFeed({ logger: quiet });
    const all: string[] = [];
    expect(feed.watched('initech')).toBe(false);
    const stop = feed.subscribeAll((e) => all.push(e.id));
    expect(feed.watched('initech')).toBe(true);
    feed.publish(event('acme', 'a1'));
    feed.publish(event('initech', 'i1'));
    stop();
    feed.publish(event('acme', 'a2'));
    expect(all).toEqual(['a1', 'i1']);
    expect(feed.watched('initech')).toBe(false);
  });

  it('keeps delivering to the other listeners when one throws, and logs it', () => {
    const logger = { error: jest.fn() };
    const feed = new AnomalyFeed({ logger });
    const seen: string[] = [];
    feed.subscribe(ACME, () => {
      throw new Error('socket gone');
    });
    feed.subscribe(ACME, (e) => seen.push(e.id));

    expect(() => feed.publish(event('acme', 'a1'))).not.toThrow();
    expect(seen).toEqual(['a1']);
    expect(logger.error).toHaveBeenCalledWith(expect.stringContaining('socket gone'), expect.any(String));
  });

  it('lets a listener unsubscribe while an event is being delivered', () => {
    const feed = new AnomalyFeed({ logger: quiet });
    const seen: string[] = [];
    const stop = feed.subscribe(ACME, (e) => {
      seen.push(`first:${e.id}`);
      stop();
    });
    feed.subscribe(ACME, (e) => seen.push(`second:${e.id}`));

    feed.publish(event('acme', 'a1'));
    feed.publish(event('acme', 'a2'));

    expect(seen).toEqual(['first:a1', 'second:a1', 'second:a2']);
  });
});
