import { parseTenantId } from '@seismo/storage';
import { type SeriesArrival, SilenceWatch } from './silence.watch';

const ACME = parseTenantId('acme');
const GLOBEX = parseTenantId('globex');
const T0 = Date.UTC(2026, 11, 6, 12);
const SECOND = 1000;
const MINUTE = 60 * SECOND;

const arrival = (series: string, i: number): SeriesArrival => ({
  series,
  ts: T0 + i * 10 * SECOND,
  value: i,
});

/** `count` arrivals of each series, 10 s apart on the clock, the last at T0 + (count - 1) x 10 s. */
function feed(watch: SilenceWatch, series: readonly string[], count: number, tenant = ACME): number {
  for (let i = 0; i < count; i++) {
    watch.seen(
      tenant,
      series.map((s) => arrival(s, i)),
      T0 + i * 10 * SECOND,
    );
  }
  return T0 + (count - 1) * 10 * SECOND;
}

describe('SilenceWatch', () => {
  it('calls a series that reported every 10 s silent after the minimum silence, once', () => {
    const watch = new SilenceWatch();
    const last = feed(watch, ['cpu', 'mem'], 20);
    expect(watch.tick(last + 119 * SECOND)).toEqual({ silent: [], forgotten: [] });
    // mem keeps reporting; cpu stops.
    watch.seen(ACME, [arrival('mem', 20)], last + 60 * SECOND);
    const { silent } = watch.tick(last + 2 * MINUTE);
    expect(silent).toEqual([
      {
        tenantId: ACME,
        series: 'cpu',
        lastTs: T0 + 190 * SECOND,
        lastValue: 19,
        lastArrivalAt: last,
        usualGapMs: 10_000,
      },
    ]);
    expect(watch.tick(last + 2 * MINUTE + 30 * SECOND).silent).toEqual([]);
    expect(watch.tick(last + 3 * MINUTE).silent.map((s) => s.series)).toEqual(['mem']);
  });

  it('waits several of its usual gaps for a series that reports rarely', () => {
    const watch = new SilenceWatch();
    let now = T0;
    for (let i = 0; i < 12; i++, now += 5 * MINUTE)
      watch.seen(ACME, [{ series: 'sales', ts: now, value: i }], now);
    const last = now - 5 * MINUTE;
    expect(watch.tick(last + 24 * MINUTE).silent).toEqual([]);
    expect(watch.tick(last + 25 * MINUTE).silent.map((s) => s.series)).toEqual(['sales']);
  });

  it('says which silent series report again, and learns their cadence anew', () => {
    const watch = new SilenceWatch();
    const last = feed(watch, ['cpu'], 20);
    watch.tick(last + 5 * MINUTE);
    const back = last + 30 * MINUTE;
    expect(watch.seen(ACME, [{ series: 'cpu', ts: back, value: 7 }], back)).toEqual([
      expect.objectContaining({ series: 'cpu', lastValue: 19 }),
    ]);
    // The half hour of silence is not a gap of its cadence: it needs its arrivals again.
    expect(watch.tick(back + 5 * MINUTE).silent).toEqual([]);
  });

  it('never calls a new or an irregular series silent', () => {
    const watch = new SilenceWatch();
    const last = feed(watch, ['young'], 5);
    let now = T0;
    const gaps = [1, 90, 2, 300, 5, 1, 200, 3, 600, 2, 1, 400].map((g) => g * SECOND);
    for (const gap of gaps) {
      now += gap;
      watch.seen(ACME, [{ series: 'events', ts: now, value: 1 }], now);
    }
    expect(watch.tick(Math.max(last, now) + 60 * MINUTE).silent).toEqual([]);
  });

  it('takes the many points of one request as one arrival', () => {
    const watch = new SilenceWatch();
    for (let i = 0; i < 30; i++) watch.seen(ACME, [arrival('cpu', i)], T0);
    expect(watch.tick(T0 + 10 * MINUTE).silent).toEqual([]);
  });

  it('keeps tenants apart, bounds the series it watches, and forgets long silences', () => {
    const watch = new SilenceWatch({ maxSeriesPerTenant: 2, forgetAfterMs: 60 * MINUTE });
    const last = feed(watch, ['a', 'b', 'c'], 20);
    feed(watch, ['a'], 20, GLOBEX);
    expect(watch.watchedOf(ACME)).toBe(2);
    expect(watch.watchedOf(GLOBEX)).toBe(1);
    expect(watch.unwatched).toBe(20);
    expect(watch.tick(last + 5 * MINUTE).silent.map((s) => `${s.tenantId}/${s.series}`)).toEqual([
      'acme/a',
      'acme/b',
      'globex/a',
    ]);
    const { forgotten } = watch.tick(last + 60 * MINUTE);
    expect(forgotten.map((s) => s.series)).toEqual(['a', 'b', 'a']);
    expect(watch.watchedOf(ACME)).toBe(0);
    watch.seen(ACME, [arrival('a', 0)], last + 61 * MINUTE);
    watch.forgetTenant(ACME);
    expect(watch.watchedOf(ACME)).toBe(0);
  });

  it('takes back a series known as silent before a restart: its next arrival resumes it, a long silence forgets it', () => {
    const silentCpu = {
      tenantId: ACME,
      series: 'cpu',
      lastTs: T0 - 10 * SECOND,
      lastValue: 19,
      lastArrivalAt: T0,
      usualGapMs: 10_000,
    };
    const watch = new SilenceWatch({ forgetAfterMs: 60 * MINUTE });
    watch.restoreSilent(silentCpu);
    watch.restoreSilent({ ...silentCpu, tenantId: GLOBEX });
    expect(watch.tick(T0 + 10 * MINUTE)).toEqual({ silent: [], forgotten: [] });
    expect(watch.seen(ACME, [{ series: 'cpu', ts: T0 + 20 * MINUTE, value: 3 }], T0 + 20 * MINUTE)).toEqual([
      silentCpu,
    ]);
    // Its cadence is learned again before it can be silent again.
    expect(watch.tick(T0 + 30 * MINUTE).silent).toEqual([]);
    expect(watch.tick(T0 + 60 * MINUTE).forgotten).toEqual([{ ...silentCpu, tenantId: GLOBEX }]);
  });

  it('rejects a policy it cannot follow, naming the field', () => {
    expect(() => new SilenceWatch({ minArrivals: 1 })).toThrow(/minArrivals/);
    expect(() => new SilenceWatch({ minSilenceMs: 0 })).toThrow(/minSilenceMs/);
    expect(() => new SilenceWatch({ silentAfterGaps: Number.NaN })).toThrow(/silentAfterGaps/);
    expect(() => new SilenceWatch({ forgetAfterMs: 1000, minSilenceMs: 2000 })).toThrow(/forgetAfterMs/);
  });
});
