import { emptyUsage, parseTenantId, type UsageRecord } from '@seismo/storage';
import { ActiveSeriesLedger } from './active-series.ledger';

const HOUR = 3_600_000;
const H0 = Date.UTC(2031, 0, 1);
const acme = parseTenantId('acme');
const globex = parseTenantId('globex');

function row(tenant: typeof acme, hour: number, hashes: bigint[]): UsageRecord {
  return { ...emptyUsage(tenant, hour), seriesHashes: hashes };
}

describe('ActiveSeriesLedger', () => {
  it('knows a hash stored for a tenant in an hour, and nothing of other tenants or hours', () => {
    const ledger = new ActiveSeriesLedger();
    expect(ledger.has(acme, H0, 1n)).toBe(false);
    ledger.stored([row(acme, H0, [1n, 2n]), row(globex, H0, [3n])]);
    expect(ledger.has(acme, H0, 1n)).toBe(true);
    expect(ledger.has(acme, H0, 3n)).toBe(false);
    expect(ledger.has(globex, H0, 1n)).toBe(false);
    expect(ledger.has(acme, H0 + HOUR, 1n)).toBe(false);
    expect(ledger.hashCount).toBe(3);
  });

  it('moves to a later hour, forgetting the earlier one, and ignores a row of an hour already past', () => {
    const ledger = new ActiveSeriesLedger();
    ledger.stored([row(acme, H0, [1n, 2n])]);
    ledger.stored([row(acme, H0 + HOUR, [2n])]);
    expect(ledger.has(acme, H0, 1n)).toBe(false);
    expect(ledger.has(acme, H0 + HOUR, 2n)).toBe(true);
    ledger.stored([row(acme, H0, [5n])]);
    expect(ledger.has(acme, H0, 5n)).toBe(false);
    expect(ledger.hashCount).toBe(1);
  });

  it("forgets an erased tenant's hashes", () => {
    const ledger = new ActiveSeriesLedger();
    ledger.stored([row(acme, H0, [1n]), row(globex, H0, [1n])]);
    ledger.forget(acme);
    expect(ledger.has(acme, H0, 1n)).toBe(false);
    expect(ledger.has(globex, H0, 1n)).toBe(true);
    expect(ledger.hashCount).toBe(1);
  });

  it('starts over rather than grow past its bound', () => {
    const ledger = new ActiveSeriesLedger();
    const many = Array.from({ length: 150_000 }, (_, i) => BigInt(i));
    ledger.stored([row(acme, H0, many)]);
    expect(ledger.hashCount).toBe(150_000);
    ledger.stored([row(globex, H0, many)]);
    expect(ledger.hashCount).toBe(0);
    expect(ledger.has(acme, H0, 1n)).toBe(false);
  });
});
