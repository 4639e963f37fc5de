import { chartPage, type ChartView } from './chart.page';

const AT = Date.UTC(2026, 11, 7, 12);
const HOUR = 3_600_000;

function view(range: ChartView['range'], extra: Partial<ChartView> = {}): ChartView {
  return {
    series: 'queue{host="b"}',
    at: AT,
    from: AT - 6 * HOUR,
    to: AT + HOUR,
    range,
    zeroRetention: false,
    expiresAt: AT + 30 * 24 * HOUR,
    ...extra,
  };
}

describe('chartPage', () => {
  it('draws raw points as a line, the anomalous ones in red, and the alert at its time', () => {
    const points = [0, 1, 2, 3].map((i) => ({
      ts: AT - HOUR + i * HOUR,
      value: i === 1 ? 400 : 50,
      score: i === 1 ? 0.9 : 0.1,
      flags: i === 1 ? 1 : 0,
    }));
    const html = chartPage(view({ resolution: 'raw', points }));
    expect(html).toContain('<code>queue{host=&quot;b&quot;}</code>');
    const polyline = /<polyline[^>]* points="([^"]+)"/.exec(html)![1].split(' ');
    expect(polyline).toHaveLength(4);
    // Time runs left to right; the spike is the highest point (the smallest y).
    const xy = polyline.map((p) => p.split(',').map(Number));
    expect(xy.map(([x]) => x)).toEqual([...xy.map(([x]) => x)].sort((a, b) => a - b));
    expect(Math.min(...xy.map(([, y]) => y))).toBe(xy[1][1]);
    expect(html.match(/<circle /g)).toHaveLength(1);
    // The dashed line is at the anomaly's x: 6 of the window's 7 hours in.
    const dashed = Number(/<line x1="([\d.]+)"/.exec(html)![1]);
    expect(dashed).toBeCloseTo(8 + (6 / 7) * (720 - 16), 0);
    expect(html).toContain('4 points, 1 anomalous (red)');
    expect(html).toContain('Values from 50 to 400');
  });

  it('draws buckets as their mean within a min-max band, and a flat series across the middle', () => {
    const buckets = [0, 1, 2].map((i) => ({
      ts: AT - 3 * HOUR + i * HOUR,
      count: 60,
      min: 10,
      max: i === 2 ? 90 : 30,
      avg: 20,
      maxScore: i === 2 ? 0.8 : 0.1,
      flags: i === 2 ? 1 : 0,
    }));
    const html = chartPage(view({ resolution: 'bucketed', bucketMs: HOUR, buckets }));
    expect(html).toContain('<polygon');
    expect(html).toContain('in buckets of 1 h (mean, and min to max)');
    expect(html).toContain('3 buckets, 1 anomalous (red)');

    const flat = chartPage(view({ resolution: 'raw', points: [{ ts: AT, value: 7, score: 0, flags: 0 }] }));
    const [, y] = /<polyline[^>]* points="([^"]+)"/.exec(flat)![1].split(',').map(Number);
    expect(y).toBeCloseTo(120, 0);
    const near = chartPage(
      view({ resolution: 'raw', points: [{ ts: AT, value: 199999.9999, score: 0, flags: 0 }] }),
    );
    expect(near).toContain('Values from 200000 to 200000');
  });

  it('says why there is nothing to draw, and escapes the series name', () => {
    const empty = { resolution: 'raw' as const, points: [] };
    expect(chartPage(view(empty))).toContain('No points of this series are stored in this window.');
    expect(chartPage(view(empty, { zeroRetention: true }))).toContain('keeps no raw points (zero retention)');
    expect(chartPage(view(empty, { series: '<script>x</script>' }))).not.toContain('<script>');
  });
});
