import {
  assertFinitePoint,
  createDetector,
  decodeSnapshot,
  type Detector,
  DEFAULT_DETECTOR,
  encodeSnapshot,
  type Params,
  restoreDetector,
} from '@seismo/detectors';

export interface SeriesScorerOptions {
  /** Detector kind for every series (the ensemble unless told otherwise). */
  readonly detector?: string;
  readonly params?: Params;
  /** New series beyond this many (in this scorer) are refused; known series keep flowing. */
  readonly maxSeries?: number;
}

/** Where a scorer asks before adding a series: the tenant's budget across partitions (TenantSeriesBudget). */
export interface SeriesAdmission {
  /** Counts one new series, or answers why it may not be added. */
  take(): string | undefined;
  /** Counts series added without asking (restored). */
  add(series: number): void;
}

export enum SeriesScorerErrorCode {
  CARDINALITY_LIMIT = 'CARDINALITY_LIMIT',
  CORRUPT_STATE = 'CORRUPT_STATE',
}

export class SeriesScorerError extends Error {
  constructor(
    readonly code: SeriesScorerErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'SeriesScorerError';
  }
}

/** Points an anomaly carries as its context: the series' latest points, the anomalous one last. */
export const CONTEXT_POINTS = 8;

/** One series' encoded state, as a checkpoint stores it. */
export interface EncodedSeriesState {
  readonly series: string;
  readonly state: Uint8Array;
}

/** The recent points of a series, oldest first; `ts` and `values` pair up. */
export interface SeriesContext {
  readonly ts: number[];
  readonly values: number[];
}

const STATE_KIND = 'series-state';
const STATE_VERSION = 1;

/**
 * What the engine keeps per series: its detector, its last points (an anomaly's context
 * window, which must survive a restart with the detector: a zero-retention tenant has no
 * stored points to draw it from), and whether it changed since the last checkpoint.
 */
class SeriesState {
  /** Ring of the last CONTEXT_POINTS points: timestamps in [0, N), values in [N, 2N). */
  readonly ring = new Float64Array(2 * CONTEXT_POINTS);
  /** Points seen, capped only by 2^53: the ring's next slot is `seen % N`. */
  seen = 0;
  changed = true;

  constructor(readonly detector: Detector) {}

  step(value: number, t: number): number {
    const score = this.detector.step(value, t);
    const slot = this.seen % CONTEXT_POINTS;
    this.ring[slot] = t;
    this.ring[CONTEXT_POINTS + slot] = value;
    this.seen++;
    this.changed = true;
    return score;
  }

  context(): SeriesContext {
    const count = Math.min(this.seen, CONTEXT_POINTS);
    const ts = new Array<number>(count);
    const values = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      const slot = (this.seen - count + i) % CONTEXT_POINTS;
      ts[i] = this.ring[slot];
      values[i] = this.ring[CONTEXT_POINTS + slot];
    }
    return { ts, values };
  }

  encode(): Uint8Array {
    return encodeSnapshot({
      kind: STATE_KIND,
      version: STATE_VERSION,
      params: {},
      state: { ring: this.ring, seen: new Float64Array([this.seen]) },
      children: { detector: this.detector.snapshot() },
    });
  }

  static decode(bytes: Uint8Array): SeriesState {
    const snapshot = decodeSnapshot(bytes);
    const { ring, seen } = snapshot.state;
    const child = snapshot.children?.detector;
    if (
      snapshot.kind !== STATE_KIND ||
      snapshot.version !== STATE_VERSION ||
      !(ring instanceof Float64Array) ||
      ring.length !== 2 * CONTEXT_POINTS ||
      !(seen instanceof Float64Array) ||
      seen.length !== 1 ||
      !child
    ) {
      throw new Error(
        `expected a ${STATE_KIND} snapshot of version ${STATE_VERSION} with a ring of ${2 * CONTEXT_POINTS} numbers, a count and a detector`,
      );
    }
    const state = new SeriesState(restoreDetector(child));
    state.ring.set(ring);
    state.seen = seen[0];
    state.changed = false;
    return state;
  }
}

/**
 * One detector per series, created on first sight: the engine's per-partition state.
 * Points of one series must come in order through one scorer (Kafka's partitioning
 * by series guarantees that); the scorer itself does no I/O and never waits.
 */
export class SeriesScorer {
  private readonly states = new Map<string, SeriesState>();
  private readonly kind: string;
  private readonly params: Params | undefined;
  private readonly maxSeries: number;

  constructor(
    options: SeriesScorerOptions = {},
    private readonly admission?: SeriesAdmission,
  ) {
    this.kind = options.detector ?? DEFAULT_DETECTOR;
    this.params = options.params;
    this.maxSeries = options.maxSeries ?? Number.POSITIVE_INFINITY;
    // Fail at construction, not on the first point, when the detector or its params are wrong.
    createDetector(this.kind, this.params);
  }

  get seriesCount(): number {
    return this.states.size;
  }

  /** Scores the point against what its series has seen so far, then learns it. */
  score(series: string, value: number, t: number): number {
    assertFinitePoint(value, t);
    let state = this.states.get(series);
    if (!state) {
      if (this.states.size >= this.maxSeries) {
        throw new SeriesScorerError(
          SeriesScorerErrorCode.CARDINALITY_LIMIT,
          `series '${series}' is new and the limit of ${this.maxSeries} series is reached`,
        );
      }
      const refused = this.admission?.take();
      if (refused !== undefined) {
        throw new SeriesScorerError(
          SeriesScorerErrorCode.CARDINALITY_LIMIT,
          `series '${series}' is new and ${refused}`,
        );
      }
      state = new SeriesState(createDetector(this.kind, this.params));
      this.states.set(series, state);
    }
    return state.step(value, t);
  }

  /** The series' latest points, the one scored last at the end; empty for a series never seen. */
  context(series: string): SeriesContext {
    return this.states.get(series)?.context() ?? { ts: [], values: [] };
  }

  /**
   * The encoded state of every series changed since the previous call (of every series
   * with `all`), which then count as unchanged: what a checkpoint round writes.
   */
  takeChanged(all = false): EncodedSeriesState[] {
    const out: EncodedSeriesState[] = [];
    for (const [series, state] of this.states) {
      if (!all && !state.changed) continue;
      out.push({ series, state: state.encode() });
      state.changed = false;
    }
    return out;
  }

  /** Replaces a series' state with one a checkpoint held. */
  restore(series: string, bytes: Uint8Array): void {
    let state: SeriesState;
    try {
      state = SeriesState.decode(bytes);
    } catch (cause) {
      throw new SeriesScorerError(
        SeriesScorerErrorCode.CORRUPT_STATE,
        `the checkpointed state of series '${series}' cannot be restored: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
    if (!this.states.has(series)) this.admission?.add(1);
    this.states.set(series, state);
  }

  /**
   * Bytes of encoded state across all series: what a full checkpoint of this scorer
   * weighs. Every series of a scorer runs the same detector with the same params, whose
   * state has a fixed size (O(1) memory per series), so one series' encoding times the
   * count is the sum, without encoding them all (this is read on every metrics scrape).
   */
  stateBytes(): number {
    const first = this.states.values().next();
    return first.done ? 0 : first.value.encode().byteLength * this.states.size;
  }
}
