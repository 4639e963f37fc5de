import { escapeHtml } from '@seismo/alerting';
import { PointFlag } from '@seismo/engine/pipeline/point-flag';
import { type PointRange } from '@seismo/storage';
import { iso, page } from '../feedback/feedback-link.pages';

/** What a chart link shows: one series over a window around one anomaly. */
export interface ChartView {
  readonly series: string;
  /** The anomaly the alert was about, epoch milliseconds. */
  readonly at: number;
  readonly from: number;
  readonly to: number;
  readonly range: PointRange;
  /** The tenant keeps no raw points (zero retention): the window is empty by design. */
  readonly zeroRetention: boolean;
  readonly expiresAt: number;
}

const WIDTH = 720;
const HEIGHT = 240;
const PAD = { left: 8, right: 8, top: 12, bottom: 12 };

/** One drawn sample: a raw point, or a bucket's mean with its range. */
interface Sample {
  readonly ts: number;
  readonly value: number;
  readonly low: number;
  readonly high: number;
  readonly anomalous: boolean;
}

/**
 * GET /v1/charts/{token}: the series as an inline SVG (no script, nothing loaded), its
 * anomalous points in red, the alert's anomaly under a dashed line; a bucketed window shows
 * each bucket's mean with its min-max band, so spikes survive the downsampling.
 */
export function chartPage(view: ChartView): string {
  const samples = samplesOf(view.range);
  const anomalous = samples.filter((s) => s.anomalous).length;
  const caption =
    `${escapeHtml(iso(view.from))} to ${escapeHtml(iso(view.to))}` +
    (view.range.resolution === 'bucketed'
      ? `, in buckets of ${escapeHtml(durationOf(view.range.bucketMs))} (mean, and min to max)`
      : '');
  const body =
    samples.length === 0
      ? [
          `<p>${
            view.zeroRetention
              ? 'This tenant keeps no raw points (zero retention): there is nothing to draw.'
              : 'No points of this series are stored in this window.'
          }</p>`,
        ]
      : [
          svgOf(samples, view),
          `<p>${caption}. ${samples.length} ${view.range.resolution === 'raw' ? 'points' : 'buckets'}, ` +
            `${anomalous} anomalous (red); the dashed line is the anomaly of the alert, ` +
            `${escapeHtml(iso(view.at))}. Values from ${escapeHtml(formatValue(Math.min(...samples.map((s) => s.low))))} ` +
            `to ${escapeHtml(formatValue(Math.max(...samples.map((s) => s.high))))}.</p>`,
        ];
  return page(view.series, [
    `<h1><code>${escapeHtml(view.series)}</code></h1>`,
    ...body,
    `<p>This link works until ${escapeHtml(iso(view.expiresAt))}. The same URL with ` +
      '<code>accept: application/json</code> answers the data.</p>',
  ]);
}

function samplesOf(range: PointRange): Sample[] {
  const anomalous = (flags: number) => (flags & PointFlag.ANOMALY) !== 0;
  if (range.resolution === 'raw') {
    return range.points.map((p) => ({
      ts: p.ts,
      value: p.value,
      low: p.value,
      high: p.value,
      anomalous: anomalous(p.flags),
    }));
  }
  return range.buckets.map((b) => ({
    ts: b.ts + range.bucketMs / 2,
    value: b.avg,
    low: b.min,
    high: b.max,
    anomalous: anomalous(b.flags),
  }));
}

function svgOf(samples: readonly Sample[], view: ChartView): string {
  let low = Math.min(...samples.map((s) => s.low));
  let high = Math.max(...samples.map((s) => s.high));
  // A flat series is drawn across the middle.
  if (high === low) [low, high] = [low - 1, high + 1];
  const x = (ts: number) =>
    PAD.left + ((ts - view.from) / Math.max(1, view.to - view.from)) * (WIDTH - PAD.left - PAD.right);
  const y = (value: number) => PAD.top + (1 - (value - low) / (high - low)) * (HEIGHT - PAD.top - PAD.bottom);
  const xy = (ts: number, value: number) => `${x(ts).toFixed(1)},${y(value).toFixed(1)}`;
  const band =
    view.range.resolution === 'bucketed'
      ? `<polygon fill="#c6dbef" stroke="none" points="${[
          ...samples.map((s) => xy(s.ts, s.high)),
          ...[...samples].reverse().map((s) => xy(s.ts, s.low)),
        ].join(' ')}"/>`
      : '';
  const line = `<polyline fill="none" stroke="#2171b5" stroke-width="1.5" points="${samples.map((s) => xy(s.ts, s.value)).join(' ')}"/>`;
  const marks = samples
    .filter((s) => s.anomalous)
    .map((s) => `<circle cx="${x(s.ts).toFixed(1)}" cy="${y(s.high).toFixed(1)}" r="3.5" fill="#cb181d"/>`)
    .join('');
  const atX = x(view.at).toFixed(1);
  const alertLine = `<line x1="${atX}" x2="${atX}" y1="0" y2="${HEIGHT}" stroke="#cb181d" stroke-dasharray="4 3"/>`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" ` +
    `aria-label="${escapeHtml(view.series)}">` +
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff" stroke="#d9d9d9"/>` +
    `${band}${line}${alertLine}${marks}</svg>`
  );
}

function durationOf(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}

function formatValue(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const shown = value.toPrecision(6);
  // Trailing zeros of the fraction only (199999.9999 shows as 200000, not 2).
  return shown.includes('.') && !shown.includes('e') ? shown.replace(/\.?0+$/, '') : shown;
}
