import { HOUR_MS, parseTenantId, seriesHash } from '@seismo/storage';
import { ActiveSeriesLedger } from './active-series.ledger';
import { SeriesHashCache, UsageTally } from './usage.tally';

const acme = parseTenantId('acme');
const globex = parseTenantId('globex');
const H = 10 * HOUR_MS;

describe('UsageTally', () => {
  it('lists each series of a batch once, however many messages name it, per tenant', () => {
    const tally = new UsageTally(new SeriesHashCache());
    tally.scored(acme, 3, 1, ['cpu', 'mem']);
    tally.scored(acme, 2, 0, ['mem', 'cpu', 'disk']);
    tally.scored(globex, 1, 0, ['cpu']);
    const [a, g] = tally.records(H + 5);
    expect(a).toMatchObject({ tenantId: acme, hour: H, pointsScored: 5, anomalies: 1 });
    expect(a.seriesHashes).toEqual(['cpu', 'mem', 'disk'].map(seriesHash));
    expect(g.seriesHashes).toEqual([seriesHash('cpu')]);
  });

  it('lists a series again in the next batch, leaving out those known stored in the hour', () => {
    const cache = new SeriesHashCache();
    const ledger = new ActiveSeriesLedger();
    const first = new UsageTally(cache, ledger);
    first.scored(acme, 2, 0, ['cpu', 'mem']);
    ledger.stored(first.records(H));
    const second = new UsageTally(cache, ledger);
    second.scored(acme, 2, 0, ['cpu', 'disk']);
    expect(second.records(H)[0].seriesHashes).toEqual([seriesHash('disk')]);
    // Another hour: every series again.
    const third = new UsageTally(cache, ledger);
    third.scored(acme, 1, 0, ['cpu']);
    expect(third.records(H + HOUR_MS)[0].seriesHashes).toEqual([seriesHash('cpu')]);
  });

  it('hashes a series forgotten with its tenant afresh', () => {
    const cache = new SeriesHashCache();
    new UsageTally(cache).scored(acme, 1, 0, ['cpu']);
    cache.forget(acme);
    expect(cache.of(acme).size).toBe(0);
    const tally = new UsageTally(cache);
    tally.scored(acme, 1, 0, ['cpu']);
    expect(tally.records(H)[0].seriesHashes).toEqual([seriesHash('cpu')]);
  });
});
