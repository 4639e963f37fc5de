import { parseCsvSeries, syntheticSeries } from './series';

describe('syntheticSeries', () => {
  it('is the same for the same seed and differs for another', () => {
    const a = syntheticSeries(5000, 7);
    expect(syntheticSeries(5000, 7)).toEqual(a);
    expect(syntheticSeries(5000, 8).values).not.toEqual(a.values);
    expect(a.source).toBe('synthetic');
  });

  it('has strictly increasing timestamps a minute apart, give or take a second', () => {
    const { t } = syntheticSeries(20_000);
    const steps = t.subarray(1).map((ti, i) => ti - t[i]);
    expect(Math.min(...steps)).toBeGreaterThanOrEqual(58_000);
    expect(Math.max(...steps)).toBeLessThanOrEqual(62_000);
  });

  it('has a daily cycle, spikes and finite values', () => {
    const { values } = syntheticSeries(100_000);
    expect(values.every(Number.isFinite)).toBe(true);
    // The cycle: noon-ish (a quarter day in) sits well above three quarters of a day in.
    expect(values[360] - values[1080]).toBeGreaterThan(100);
    let jumps = 0;
    for (let i = 1; i < values.length; i++) if (Math.abs(values[i] - values[i - 1]) > 28) jumps++;
    expect(jumps).toBeGreaterThan(20);
  });
});

describe('parseCsvSeries', () => {
  it("reads NAB's format as UTC, and epoch milliseconds", () => {
    const nab = parseCsvSeries(
      'timestamp,value\n2014-04-01 00:00:00,10.5\n2014-04-01 00:05:00,11\n',
      'nab.csv',
    );
    expect(Array.from(nab.t)).toEqual([Date.UTC(2014, 3, 1), Date.UTC(2014, 3, 1, 0, 5)]);
    expect(Array.from(nab.values)).toEqual([10.5, 11]);
    expect(nab.source).toBe('nab.csv');
    const epoch = parseCsvSeries('timestamp,value\n1000,1\n2000,2\n', 'epoch.csv');
    expect(Array.from(epoch.t)).toEqual([1000, 2000]);
  });

  it('honours an explicit zone', () => {
    const zoned = parseCsvSeries(
      'timestamp,value\n2024-01-01T01:00:00+01:00,1\n2024-01-01T00:30:00Z,2\n',
      'z.csv',
    );
    expect(Array.from(zoned.t)).toEqual([Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 1, 0, 30)]);
  });

  it.each([
    ['timestamp,value\n1000,1\n', 'f.csv: needs at least 2 rows, got 1'],
    ['time,value\n1000,1\n2000,2\n', "f.csv:2: the header must name the columns 'timestamp' and 'value'"],
    ['timestamp,value\n1000,1\nyesterday,2\n', "f.csv:3: timestamp 'yesterday' is not a date"],
    ['timestamp,value\n1000,1\n2000,NaN\n', "f.csv:3: value 'NaN' is not a finite number"],
    ['timestamp,value\n1000,1\n2000,\n', "f.csv:3: value '' is not a finite number"],
    ['timestamp,value\n2000,1\n1000,2\n', 'f.csv:3: timestamp goes back in time'],
    ['timestamp,value\n1000,1,9\n', 'f.csv: '],
  ])('refuses %j, naming the line', (text, message) => {
    expect(() => parseCsvSeries(text, 'f.csv')).toThrow(message);
  });
});
