import { BaseDetector } from './base.detector';
import { type DetectorSnapshot, type Params } from './detector';
import { DetectorError, DetectorErrorCode } from './errors';
import { ParamReader } from './params';
import { RandomCutForest, type ForestConfig } from './rcf/forest';
import { SnapshotReader } from './snapshot';
import { spreadFloor } from './stats/deviation';

// Bound once: inside a vm context (as Jest runs code) every `Math.x` in a hot loop is a slow global lookup.
const { abs, exp, max } = Math;

const KIND = 'rcf';
const VERSION = 1;
const DEFAULT_SEED = 1;

// Layout of the normaliser's state array.
const VALUES = 0;
const MEAN = 1;
const SPREAD = 2;
const SLOTS = 3;

/** Values that only train the normaliser, as AWS's startNormalization: before them its spread means nothing. */
const WARMUP = 10;
/** Normalised values are clipped here (AWS's clip): a wild value is still far out, without stretching every box. */
const CLIP = 100;
/** Values beyond this are taken as this, so that differences of two values stay finite in doubles. */
const LIMIT = 1e307;

/**
 * Robust Random Cut Forest (Guha, Mishra, Roy, Schrijvers, ICML 2016), streaming as in
 * AWS's random-cut-forest-by-aws: each point is scored by how much it would displace
 * the trees of a forest built over a time-decayed sample of recent shingles, so it
 * catches spikes and dips, and also shapes not seen lately (a period that changes)
 * whose values each look ordinary.
 *
 * Values are normalised online (exponentially weighted mean and mean absolute deviation,
 * forgetting at the sampler's `timeDecay`), so one parameter set fits every scale. The
 * last `shingleSize` normalised values form the point the forest sees.
 *
 * The score is the collusive displacement (CoDisp) of that point as if it were inserted,
 * in expectation over the insertion's random cut and averaged over the trees: a number
 * in [0, sampleSize]. Divided by log2(sampleSize) it is on AWS's scale, where ordinary
 * points sit below about 1 (on a noisy sine the median is 0.6 and the 99th percentile
 * 1.7, while a spike of two amplitudes reaches 5); 1 - e^-x then maps it monotonically
 * to [0, 1), 0.63 at 1. Scores are 0 until every tree holds `grace` points.
 */
export class RcfDetector extends BaseDetector {
  readonly kind = KIND;
  private readonly shingleSize: number;
  private readonly grace: number;
  private readonly alpha: number;
  private readonly unit: number;
  private readonly forest: RandomCutForest;
  private readonly s: Float64Array;
  /** The last `shingleSize` normalised values, oldest first: the point most recently offered to the forest. */
  private readonly recent: Float32Array;
  /** Scratch for the shingle ending at the value being judged; not state. */
  private readonly query: Float32Array;

  /** `from` is for `restore`; callers pass parameters only. */
  constructor(
    readonly params: Params = {},
    from?: SnapshotReader,
  ) {
    super();
    const p = new ParamReader(KIND, params);
    const shingleSize = p.integer('shingleSize', 8, 1, 64);
    const trees = p.integer('trees', 30, 1, 256);
    const sampleSize = p.integer('sampleSize', 256, 4, 4096);
    const timeDecay = p.number('timeDecay', 1 / (10 * sampleSize), { min: 0, max: 1 });
    this.grace = p.integer('grace', sampleSize, 1, sampleSize);
    const seed = p.integer('seed', DEFAULT_SEED, 0, 0xffffffff);
    p.done();

    this.shingleSize = shingleSize;
    this.alpha = timeDecay;
    this.unit = Math.log2(sampleSize);
    this.query = new Float32Array(shingleSize);
    const config: ForestConfig = { trees, sampleSize, dims: shingleSize, timeDecay, seed };
    if (from) {
      this.s = from.array('s', Float64Array, SLOTS);
      this.recent = from.array('recent', Float32Array, shingleSize);
      if (!reachable(this.s, this.recent)) {
        throw new DetectorError(
          DetectorErrorCode.CORRUPT_SNAPSHOT,
          `${KIND}: state 's' or 'recent' is out of range`,
        );
      }
      this.forest = RandomCutForest.restore(config, from);
    } else {
      this.s = new Float64Array(SLOTS);
      this.recent = new Float32Array(shingleSize);
      this.forest = RandomCutForest.create(config);
    }
  }

  static restore(snapshot: DetectorSnapshot): RcfDetector {
    return new RcfDetector(snapshot.params, new SnapshotReader(snapshot, KIND, [VERSION]));
  }

  score(value: number, _t?: number): number {
    if (this.forest.size < this.grace) return 0;
    this.shingle(value);
    return this.toUnit(this.forest.codisp(this.query));
  }

  learn(value: number, _t?: number): void {
    this.shingle(value);
    if (this.advanceShingle()) this.forest.update(this.query);
    this.updateNormaliser(value);
  }

  /** Builds the shingle once, and scores and updates each tree in one visit. */
  override step(value: number, _t?: number): number {
    this.shingle(value);
    let score = 0;
    // The forest fills only from whole shingles, so once it is ready every point is offered.
    if (this.advanceShingle()) {
      if (this.forest.size >= this.grace) score = this.toUnit(this.forest.codispThenUpdate(this.query));
      else this.forest.update(this.query);
    }
    this.updateNormaliser(value);
    return score;
  }

  snapshot(): DetectorSnapshot {
    return {
      kind: KIND,
      version: VERSION,
      params: this.params,
      state: { s: this.s.slice(), recent: this.recent.slice(), ...this.forest.state() },
    };
  }

  private toUnit(codisp: number): number {
    return 1 - exp(-codisp / this.unit);
  }

  /** Writes the shingle ending at `value` into `query`, normalised by the statistics before it. */
  private shingle(value: number): void {
    const D = this.shingleSize;
    const q = this.query;
    const recent = this.recent;
    for (let d = 1; d < D; d++) q[d - 1] = recent[d];
    q[D - 1] = this.normalise(value);
  }

  /**
   * Makes the shingle in `query` the latest, once the normaliser has warmed up, and
   * tells whether it is whole, and so goes to the forest.
   */
  private advanceShingle(): boolean {
    const seen = this.s[VALUES];
    if (seen < WARMUP) return false;
    this.recent.set(this.query);
    return seen - WARMUP + 1 >= this.shingleSize;
  }

  private updateNormaliser(value: number): void {
    const s = this.s;
    const seen = s[VALUES];
    const v = clamp(value, LIMIT);
    const a = seen * this.alpha < 1 ? 1 / (seen + 1) : this.alpha;
    if (seen === 0) {
      s[MEAN] = v;
    } else {
      s[SPREAD] += a * (abs(v - s[MEAN]) - s[SPREAD]);
      s[MEAN] += a * (v - s[MEAN]);
    }
    s[VALUES] = seen + 1;
  }

  private normalise(value: number): number {
    const s = this.s;
    if (s[VALUES] === 0) return 0;
    const mean = s[MEAN];
    return clamp((clamp(value, LIMIT) - mean) / max(s[SPREAD], spreadFloor(mean)), CLIP);
  }
}

/** Whether restored normaliser state is one the detector could have reached. */
function reachable(s: Float64Array, recent: Float32Array): boolean {
  const counted = Number.isInteger(s[VALUES]) && s[VALUES] >= 0;
  const finite = Number.isFinite(s[MEAN]) && Number.isFinite(s[SPREAD]) && s[SPREAD] >= 0;
  return counted && finite && recent.every((z) => Math.abs(z) <= CLIP);
}

function clamp(x: number, bound: number): number {
  return x > bound ? bound : x < -bound ? -bound : x;
}
