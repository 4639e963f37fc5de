import { createDetector, type Detector, encodeSnapshot } from '@seismo/detectors';
import { type MemoryConfig, parseMemoryArguments } from './arguments';
import { Feed } from './feed';
import { reportMeasurement } from './fork';
import { figure, type Measurement } from './result';
import { readCsvSeries, type Series, syntheticSeries } from './series';

/** The flags the runner starts this file with: a callable GC, and room for a million series. */
export const MEMORY_EXEC_ARGV = ['--expose-gc', '--max-old-space-size=8192'];

const REHEARSAL_SERIES = 16;

/**
 * Bytes per series for one detector kind: the growth of the JS heap plus ArrayBuffer
 * backing stores (where typed-array state lives) from creating `seriesCount` detectors
 * and feeding each `warmPoints` points, divided by `seriesCount`. Everything the harness
 * needs is allocated before the baseline, so only the detectors are counted. Also the
 * size of each detector's encoded snapshot: what a checkpoint costs per series.
 */
export async function measureMemory(config: MemoryConfig, data: Series): Promise<Measurement> {
  const collect = globalThis.gc;
  if (!collect) throw new Error('the memory benchmark needs node --expose-gc');
  const count = config.seriesCount;
  rehearse(config, data);
  // The array's slots exist before the baseline, so they are not counted: the engine's
  // own map of series is not what this figure is about.
  const slots: Array<Detector | null> = Array.from({ length: count }, () => null);
  const feed = new Feed(data, count);

  const before = await settledMemory(collect);
  for (let j = 0; j < count; j++) slots[j] = createDetector(config.detector);
  const detectors = slots as Detector[]; // every slot filled just above
  const scoreSum = feed.warm(detectors, config.warmPoints);
  const after = await settledMemory(collect);

  if (!Number.isFinite(scoreSum)) throw new Error(`${config.detector} returned a non-finite score`);
  let snapshotBytes = 0;
  for (const detector of detectors) snapshotBytes += encodeSnapshot(detector.snapshot()).byteLength;
  return {
    benchmark: 'memory',
    detector: config.detector,
    params: { series: count, warmPoints: config.warmPoints, data: data.source },
    figures: {
      bytesPerSeries: figure('bytes', [(after - before) / count]),
      snapshotBytesPerSeries: figure('bytes', [snapshotBytes / count]),
    },
    runs: 1,
  };
}

/**
 * Creates and warms a few detectors of the kind and drops them, so that the code doing
 * it is compiled, with its type feedback, before the baseline: a once-per-process cost
 * that is not memory per series.
 */
function rehearse(config: MemoryConfig, data: Series): void {
  const detectors = Array.from({ length: REHEARSAL_SERIES }, () => createDetector(config.detector));
  new Feed(data, REHEARSAL_SERIES).warm(detectors, config.warmPoints);
}

/** Heap in use plus ArrayBuffer backing stores, after garbage has been collected. */
export async function settledMemory(collect: () => void): Promise<number> {
  // Several passes, with a turn of the event loop between them: weak references and
  // ArrayBuffer backing stores are released by later passes than the objects holding them.
  for (let pass = 0; pass < 3; pass++) {
    collect();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

if (require.main === module) {
  reportMeasurement((argv) => {
    const config = parseMemoryArguments(argv);
    return measureMemory(config, config.data === undefined ? syntheticSeries() : readCsvSeries(config.data));
  });
}
