import { emptyUsage, HOUR_MS, hourOf, mergeUsage, seriesHash, USAGE_METERS } from './usage';
import { parseTenantId } from './tenant-id';

describe('usage hours', () => {
  it('puts an instant in the UTC hour that holds it, boundaries included', () => {
    const h = Date.UTC(2031, 2, 4, 10);
    expect(hourOf(h)).toBe(h);
    expect(hourOf(h + 1)).toBe(h);
    expect(hourOf(h + HOUR_MS - 1)).toBe(h);
    expect(hourOf(h + HOUR_MS)).toBe(h + HOUR_MS);
    // Before 1970 too: floor, not truncation toward zero.
    expect(hourOf(-1)).toBe(-HOUR_MS);
  });

  it('hashes a series to the same 64 bits every time, and different series apart', () => {
    expect(seriesHash('cpu{host="a"}')).toBe(seriesHash('cpu{host="a"}'));
    const hashes = new Set(Array.from({ length: 10_000 }, (_, i) => seriesHash(`series-${i}`)));
    expect(hashes.size).toBe(10_000);
    for (const hash of hashes) expect(hash < 2n ** 64n && hash >= 0n).toBe(true);
  });

  it('starts a record with every meter at 0', () => {
    expect(emptyUsage(parseTenantId('acme'), 0)).toMatchObject({
      pointsIngested: 0,
      alertsDelivered: 0,
      llmTokensIn: 0,
      seriesHashes: [],
    });
    expect(USAGE_METERS).toContain('alerts_delivered');
  });

  it('merges rows into one per tenant and hour, summing counts and uniting series', () => {
    const [acme, globex] = [parseTenantId('acme'), parseTenantId('globex')];
    const row = (tenant: typeof acme, hour: number, points: number, hashes: bigint[]) => ({
      ...emptyUsage(tenant, hour),
      pointsIngested: points,
      anomalies: 1,
      seriesHashes: hashes,
    });
    const merged = mergeUsage([
      row(acme, 0, 3, [1n, 2n]),
      row(globex, 0, 5, [1n]),
      row(acme, HOUR_MS, 7, []),
      row(acme, 0, 4, [2n, 3n]),
    ]);
    expect(
      merged.map((r) => [r.tenantId, r.hour, r.pointsIngested, r.anomalies, [...r.seriesHashes].sort()]),
    ).toEqual([
      [acme, 0, 7, 2, [1n, 2n, 3n]],
      [globex, 0, 5, 1, [1n]],
      [acme, HOUR_MS, 7, 1, []],
    ]);
    expect(mergeUsage([])).toEqual([]);
  });
});
