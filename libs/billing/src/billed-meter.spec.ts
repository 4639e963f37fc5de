import { HOUR_MS, parseTenantId } from '@seismo/storage';
import { BILLED_METERS, hourLabel, meterEventIdentifier } from './billed-meter';

const HOUR = Date.UTC(2031, 2, 4, 10);

describe('meter event identifiers', () => {
  it('names tenant, meter, hour and sequence, the same every time', () => {
    const acme = parseTenantId('acme');
    expect(meterEventIdentifier(acme, 'points_ingested', HOUR, 0)).toBe(
      'seismo.acme.points_ingested.2031-03-04T10.0',
    );
    expect(meterEventIdentifier(acme, 'points_ingested', HOUR, 0)).toBe(
      meterEventIdentifier(parseTenantId('acme'), 'points_ingested', HOUR, 0),
    );
  });

  it('differs whenever tenant, meter, hour or sequence differs', () => {
    const ids = new Set<string>();
    for (const tenant of ['a', 'b', 'a-b', 'ab']) {
      for (const { meter } of BILLED_METERS) {
        for (let h = 0; h < 48; h++) {
          for (const seq of [0, 1, 10])
            ids.add(meterEventIdentifier(parseTenantId(tenant), meter, HOUR + h * HOUR_MS, seq));
        }
      }
    }
    expect(ids.size).toBe(4 * BILLED_METERS.length * 48 * 3);
  });

  it("fits Stripe's 100 characters with the longest tenant id, by hashing the tenant part", () => {
    const long = parseTenantId('t'.repeat(64));
    const other = parseTenantId(`${'t'.repeat(63)}u`);
    const id = meterEventIdentifier(long, 'alerts_delivered', HOUR, 12345);
    expect(id.length).toBeLessThanOrEqual(100);
    expect(id).toMatch(/^seismo\.h[0-9a-f]{24}\.alerts_delivered\.2031-03-04T10\.12345$/);
    expect(meterEventIdentifier(other, 'alerts_delivered', HOUR, 12345)).not.toBe(id);
  });

  it('refuses an hour that is not the start of one, and a negative sequence', () => {
    expect(() => hourLabel(HOUR + 1)).toThrow(/start of an hour/);
    expect(() => meterEventIdentifier(parseTenantId('a'), 'anomalies', HOUR, -1)).toThrow(/seq/);
  });

  it('bills each meter under its own Stripe event name', () => {
    expect(new Set(BILLED_METERS.map((m) => m.eventName)).size).toBe(BILLED_METERS.length);
    expect(BILLED_METERS.map((m) => m.meter)).not.toContain('points_rejected');
  });
});
