import { DAY_MS, HOUR_MS } from '@seismo/storage';
import { firstOpenHour, isBillable, oldestHourScanned } from './billing-window';

const NOW = Date.UTC(2031, 2, 4, 12, 30);

describe('billing window', () => {
  it('closes an hour once it ended at least the close delay ago', () => {
    const noon = Date.UTC(2031, 2, 4, 12);
    // At 12:30 with 10 minutes' delay: 11:00-12:00 is closed (ended 12:00 <= 12:20), 12:00 is not.
    expect(firstOpenHour(NOW, 10 * 60_000)).toBe(noon);
    // With 40 minutes' delay, 11:00 is not closed yet (it ended at 12:00 > 11:50).
    expect(firstOpenHour(NOW, 40 * 60_000)).toBe(noon - HOUR_MS);
    // Exactly at the boundary: closed.
    expect(firstOpenHour(noon + 10 * 60_000, 10 * 60_000)).toBe(noon);
  });

  it("bills an hour inside Stripe's 35 days, with an hour to spare, and no older one", () => {
    expect(isBillable(NOW - 34 * DAY_MS, NOW)).toBe(true);
    expect(isBillable(NOW - 35 * DAY_MS + HOUR_MS, NOW)).toBe(true);
    expect(isBillable(NOW - 35 * DAY_MS + HOUR_MS - 1, NOW)).toBe(false);
    expect(isBillable(NOW - 36 * DAY_MS, NOW)).toBe(false);
  });

  it('has runs look a day beyond the window, so an hour leaving it unsent is seen', () => {
    const oldest = oldestHourScanned(NOW);
    expect(oldest % HOUR_MS).toBe(0);
    expect(isBillable(oldest, NOW)).toBe(false);
    expect(NOW - oldest).toBeGreaterThan(36 * DAY_MS - HOUR_MS);
    expect(NOW - oldest).toBeLessThanOrEqual(36 * DAY_MS + HOUR_MS);
  });
});
