import { emptyUsage, HOUR_MS, hourOf, seriesHash, USAGE_METERS } from './usage';
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
});
