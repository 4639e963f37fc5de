/**
 * The one interface every Seismo detector implements.
 *
 * The engine, `seismo score`, the NAB runner and the benchmarks all drive detectors
 * through it, point by point, in time order: `score` first (a pure read of the state,
 * so a score never sees the point it judges), then `learn`. `step` does both and is
 * what hot loops call; a detector may fuse the two where that saves work, but
 * `step(v, t)` must always equal `score(v, t)` followed by `learn(v, t)`.
 */
export interface Detector {
  /** Stable name of the algorithm, e.g. `'robust-zscore'`; selects it in the registry. */
  readonly kind: string;
  /** Updates the state with one point. `value` is finite, `t` is epoch milliseconds. */
  learn(value: number, t: number): void;
  /** How anomalous `value` at `t` is, in [0, 1], given only earlier points. Changes nothing. */
  score(value: number, t: number): number;
  /** `score` then `learn`, in one call. */
  step(value: number, t: number): number;
  /** The whole state, as typed arrays, with what is needed to rebuild the detector. */
  snapshot(): DetectorSnapshot;
}

export type StateArray = Float64Array | Float32Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;

export type ParamValue = number | boolean | string;
export type Params = Readonly<Record<string, ParamValue>>;

/**
 * A detector's state at one instant. `version` is the layout of `state`; a detector
 * restores every version it ever wrote (migrating old ones) and refuses the rest.
 */
export interface DetectorSnapshot {
  readonly kind: string;
  readonly version: number;
  readonly params: Params;
  readonly state: Readonly<Record<string, StateArray>>;
  /** Nested detectors (the ensemble's members), by role. */
  readonly children?: Readonly<Record<string, DetectorSnapshot>>;
}
