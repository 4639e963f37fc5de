import { type SeriesArrival } from '@seismo/alerting';
import { type PointBatch } from '@seismo/pipeline';

/**
 * The newest point of each series of a batch (`refused`: indexes of points that do not
 * count): what the no-data watch learns a series' cadence from.
 */
export function arrivalsOf(points: PointBatch, refused?: ReadonlySet<number>): SeriesArrival[] {
  const newest = new Int32Array(points.series.length).fill(-1);
  const { seriesIndex, t } = points;
  for (let i = 0; i < t.length; i++) {
    if (refused?.has(i)) continue;
    const s = seriesIndex[i];
    if (newest[s] < 0 || t[i] >= t[newest[s]]) newest[s] = i;
  }
  const arrivals: SeriesArrival[] = [];
  for (let s = 0; s < newest.length; s++) {
    const i = newest[s];
    if (i >= 0) arrivals.push({ series: points.series[s], ts: t[i], value: points.value[i] });
  }
  return arrivals;
}
