import {
  assertFinitePoint,
  createDetector,
  type Detector,
  DEFAULT_DETECTOR,
  encodeSnapshot,
  type Params,
} from '@seismo/detectors';

export interface SeriesScorerOptions {
  /** Detector kind for every series (the ensemble unless told otherwise). */
  readonly detector?: string;
  readonly params?: Params;
  /** New series beyond this many are refused; known series keep flowing. */
  readonly maxSeries?: number;
}

export enum SeriesScorerErrorCode {
  CARDINALITY_LIMIT = 'CARDINALITY_LIMIT',
}

export class SeriesScorerError extends Error {
  constructor(
    readonly code: SeriesScorerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SeriesScorerError';
  }
}

/**
 * One detector per series, created on first sight: the engine's per-partition state.
 * Points of one series must come in order through one scorer (Kafka's partitioning
 * by series guarantees that); the scorer itself does no I/O and never waits.
 */
export class SeriesScorer {
  private readonly detectors = new Map<string, Detector>();
  private readonly kind: string;
  private readonly params: Params | undefined;
  private readonly maxSeries: number;

  constructor(options: SeriesScorerOptions = {}) {
    this.kind = options.detector ?? DEFAULT_DETECTOR;
    this.params = options.params;
    this.maxSeries = options.maxSeries ?? Number.POSITIVE_INFINITY;
    // Fail at construction, not on the first point, when the detector or its params are wrong.
    createDetector(this.kind, this.params);
  }

  get seriesCount(): number {
    return this.detectors.size;
  }

  /** Scores the point against what its series has seen so far, then learns it. */
  score(series: string, value: number, t: number): number {
    assertFinitePoint(value, t);
    let detector = this.detectors.get(series);
    if (!detector) {
      if (this.detectors.size >= this.maxSeries) {
        throw new SeriesScorerError(
          SeriesScorerErrorCode.CARDINALITY_LIMIT,
          `series '${series}' is new and the limit of ${this.maxSeries} series is reached`,
        );
      }
      detector = createDetector(this.kind, this.params);
      this.detectors.set(series, detector);
    }
    return detector.step(value, t);
  }

  /** Bytes of encoded detector state across all series: what a checkpoint of this scorer weighs. */
  stateBytes(): number {
    let bytes = 0;
    for (const detector of this.detectors.values()) bytes += encodeSnapshot(detector.snapshot()).byteLength;
    return bytes;
  }
}
