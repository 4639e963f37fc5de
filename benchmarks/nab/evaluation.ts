import { type Detector } from '@seismo/detectors';
import { type Corpus } from './corpus';
import { NabScorer, type ProfileScore } from './scorer';

/** Makes a fresh detector; called once per file, so no state leaks from one series to the next. */
export type DetectorFactory = () => Detector;

export interface DetectorRun {
  /** One anomaly score per row, per corpus file, in corpus order. */
  readonly scores: Float64Array[];
  readonly points: number;
  /** Time spent in `step` only: loading, construction and scoring are left out. */
  readonly elapsedSeconds: number;
}

export interface Evaluation {
  readonly run: DetectorRun;
  readonly profiles: Record<string, ProfileScore>;
}

/**
 * Streams every file through its own detector, row by row in file order, the way the
 * engine would: the detector gets values and times, never labels or the file's length.
 */
export function runDetector(corpus: Corpus, factory: DetectorFactory): DetectorRun {
  const scores: Float64Array[] = [];
  let points = 0;
  let nanoseconds = 0n;
  for (const file of corpus.files) {
    const detector = factory();
    const { values, timestamps } = file;
    const out = new Float64Array(values.length);
    const start = process.hrtime.bigint();
    for (let i = 0; i < values.length; i++) out[i] = detector.step(values[i], timestamps[i]);
    nanoseconds += process.hrtime.bigint() - start;
    scores.push(out);
    points += values.length;
  }
  return { scores, points, elapsedSeconds: Number(nanoseconds) / 1e9 };
}

/**
 * Runs a detector over the corpus and scores it under every profile. A tuning loop
 * that evaluates many configurations on one corpus can pass one scorer to all calls.
 */
export function evaluate(
  corpus: Corpus,
  factory: DetectorFactory,
  scorer: NabScorer = new NabScorer(corpus.files),
): Evaluation {
  const run = runDetector(corpus, factory);
  return { run, profiles: scorer.score(run.scores, corpus.profiles) };
}
