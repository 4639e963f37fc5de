import { SeriesScorer } from '@seismo/engine/scoring/series-scorer';
import { seriesKey } from '@seismo/ingest';
import { type MemoryConfig, parseMemoryArguments } from './arguments';
import { reportMeasurement } from './fork';
import { MEMORY_EXEC_ARGV, settledMemory } from './memory.bench';
import { figure, type Measurement } from './result';
import { readCsvSeries, type Series, syntheticSeries } from './series';
import { METRIC, seriesLabels } from './workload';

export const SERIES_MEMORY_EXEC_ARGV = MEMORY_EXEC_ARGV;

const REHEARSAL_SERIES = 16;
const T0 = Date.UTC(2030, 0, 1);
const STEP_MS = 60_000;

/**
 * Bytes per active series as the engine holds them: a SeriesScorer (the map from series
 * name to its state: the detector and the 16-point context ring) with `seriesCount` series
 * named as a web fleet's metrics are, each fed `warmPoints` points. What is counted is
 * everything the scorer keeps: the names (the map's keys, decoded strings as the engine
 * gets them from a message), the map's entries, the state objects, the detectors and their
 * typed arrays. Also what a full checkpoint of them weighs, per series.
 */
export async function measureSeriesMemory(config: MemoryConfig, data: Series): Promise<Measurement> {
  const collect = globalThis.gc;
  if (!collect) throw new Error('the series-memory benchmark needs node --expose-gc');
  const count = config.seriesCount;
  warm(new SeriesScorer({ detector: config.detector }), names(REHEARSAL_SERIES), config.warmPoints, data);

  const before = await settledMemory(collect);
  const scorer = new SeriesScorer({ detector: config.detector });
  const keys = names(count);
  const scoreSum = warm(scorer, keys, config.warmPoints, data);
  keys.length = 0; // the scorer's map holds each name once; this array is the harness's
  const after = await settledMemory(collect);

  if (!Number.isFinite(scoreSum)) throw new Error(`${config.detector} returned a non-finite score`);
  if (scorer.seriesCount !== count)
    throw new Error(`expected ${count} series, the scorer holds ${scorer.seriesCount}`);
  return {
    benchmark: 'series-memory',
    detector: config.detector,
    params: {
      series: count,
      warmPoints: config.warmPoints,
      data: data.source,
      nameLength: seriesKey(METRIC, seriesLabels(count - 1)).length,
    },
    figures: {
      bytesPerSeries: figure('bytes', [(after - before) / count]),
      checkpointBytesPerSeries: figure('bytes', [scorer.stateBytes() / count]),
    },
    runs: 1,
  };
}

/**
 * Series names as the engine's map keys are: flat strings decoded from a message's bytes,
 * not the rope a concatenation would leave, which is larger and would be counted too.
 */
function names(count: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    Buffer.from(seriesKey(METRIC, seriesLabels(i))).toString('utf8'),
  );
}

/** `points` rounds over every series; series j starts j/count of the way into the data. */
function warm(scorer: SeriesScorer, keys: readonly string[], points: number, data: Series): number {
  const length = data.values.length;
  let sum = 0;
  for (let round = 0; round < points; round++) {
    const t = T0 + round * STEP_MS;
    for (let j = 0; j < keys.length; j++) {
      const at = (Math.floor((j * length) / keys.length) + round) % length;
      sum += scorer.score(keys[j], data.values[at], t);
    }
  }
  return sum;
}

if (require.main === module) {
  reportMeasurement((argv) => {
    const config = parseMemoryArguments(argv);
    return measureSeriesMemory(
      config,
      config.data === undefined ? syntheticSeries() : readCsvSeries(config.data),
    );
  });
}
