import { createDetector } from '@seismo/detectors';
import { parseThroughputArguments, type ThroughputConfig } from './arguments';
import { Feed } from './feed';
import { reportMeasurement } from './fork';
import { figure, type Measurement } from './result';
import { readCsvSeries, type Series, syntheticSeries } from './series';

const JIT_WARM_CALLS = 10;
/** A timed run lasts about this long at most: a slow detector gets fewer points, not minutes. */
const RUN_SECONDS = 2;
const PROBE_POINTS = 2_000;

/**
 * Points per second through `detector.step` on one core, for one detector kind and one
 * series count: each series is first fed `warmPoints` points so its detector is past
 * warm-up, one untimed run lets the JIT settle on the loop as it will be timed, then
 * `runs` timed runs continue the same streams. A run is `points` points, or fewer when
 * the detector is too slow to get through them in about RUN_SECONDS.
 */
export function measureThroughput(config: ThroughputConfig, data: Series): Measurement {
  const detectors = Array.from({ length: config.series }, () => createDetector(config.detector));
  const feed = new Feed(data, config.series);
  let scoreSum = feed.warm(detectors, config.warmPoints);
  // A short probe sizes the runs; then one untimed run's worth of points, in several
  // calls: V8 compiles the whole of `run`, rather than only its loop entered midway,
  // once it has been called a few times.
  const probeStart = process.hrtime.bigint();
  scoreSum += feed.run(detectors, PROBE_POINTS);
  const probeRate = PROBE_POINTS / (Number(process.hrtime.bigint() - probeStart) / 1e9);
  const points = Math.max(PROBE_POINTS, Math.min(config.points, Math.round(probeRate * RUN_SECONDS)));
  for (let call = 0; call < JIT_WARM_CALLS; call++) {
    scoreSum += feed.run(detectors, Math.ceil(points / JIT_WARM_CALLS));
  }
  const rates: number[] = [];
  for (let run = 0; run < config.runs; run++) {
    const start = process.hrtime.bigint();
    scoreSum += feed.run(detectors, points);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    rates.push(points / seconds);
  }
  // Scores are consumed, so no run can be optimised away, and checked, so a detector
  // returning NaN fails its benchmark instead of posting a figure for broken work.
  if (!Number.isFinite(scoreSum)) throw new Error(`${config.detector} returned a non-finite score`);
  return {
    benchmark: 'throughput',
    detector: config.detector,
    params: {
      series: config.series,
      points: config.points,
      warmPoints: config.warmPoints,
      data: data.source,
    },
    figures: {
      pointsPerSecond: figure('points/s', rates),
      pointsPerRun: figure('points', [points]),
    },
    runs: config.runs,
  };
}

if (require.main === module) {
  reportMeasurement((argv) => {
    const config = parseThroughputArguments(argv);
    return measureThroughput(
      config,
      config.data === undefined ? syntheticSeries() : readCsvSeries(config.data),
    );
  });
}
