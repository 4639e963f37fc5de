import { type StateArray } from '../detector';
import { DetectorError, DetectorErrorCode } from '../errors';
import { type SnapshotReader } from '../snapshot';
import { PointStore } from './point-store';
import { RANDOM_STATE_WORDS, nextUniform, seedRandom } from './random';
import { ReservoirSamplers } from './sampler';
import { EMPTY, RandomCutTrees, type TreeArrays } from './trees';

// Bound once: inside a vm context (as Jest runs code) every `Math.x` in a hot loop is a slow global lookup.
const { log } = Math;

export interface ForestConfig {
  readonly trees: number;
  readonly sampleSize: number;
  readonly dims: number;
  readonly timeDecay: number;
  readonly seed: number;
}

/** Everything a snapshot of the forest holds; the rest (masses, boxes, reference counts, free slots) is derived. */
interface ForestArrays extends TreeArrays {
  /** How many points the forest has been offered: the sequence number time decay is counted in. */
  readonly clock: Float64Array;
  readonly rng: Uint32Array;
  readonly points: Float32Array;
  readonly priorities: Float64Array;
  readonly entries: Int32Array;
  readonly sizes: Int32Array;
}

/**
 * A streaming robust random cut forest: one time-decayed reservoir sample per tree, one
 * random cut tree per sample, and a point store they share. State is a fixed set of
 * typed arrays whose sizes follow from the configuration alone; a point costs no
 * allocation.
 *
 * A tree takes a new point before it lets its evicted one go, so that insertion can
 * follow the walk scoring just made. Hence the store holds one shingle more than all
 * samples together, and each tree one node and one leaf more than its sample.
 */
export class RandomCutForest {
  private readonly store: PointStore;
  private readonly samplers: ReservoirSamplers;
  private readonly cutTrees: RandomCutTrees;

  private constructor(
    readonly config: ForestConfig,
    private readonly a: ForestArrays,
  ) {
    const { trees, sampleSize, dims } = config;
    this.store = new PointStore(dims, trees * sampleSize + 1, a.points);
    this.samplers = new ReservoirSamplers(trees, sampleSize, a.priorities, a.entries, a.sizes);
    this.cutTrees = new RandomCutTrees(trees, sampleSize, dims, this.store, a);
  }

  static create(config: ForestConfig): RandomCutForest {
    const { trees, sampleSize: S, dims } = config;
    return new RandomCutForest(config, {
      clock: new Float64Array(1),
      rng: seedRandom(config.seed),
      points: new Float32Array((trees * S + 1) * dims),
      priorities: new Float64Array(trees * S),
      entries: new Int32Array(trees * S),
      sizes: new Int32Array(trees),
      roots: new Int32Array(trees).fill(EMPTY),
      left: new Int32Array(trees * S),
      right: new Int32Array(trees * S),
      cutDim: new Uint8Array(trees * S),
      cutValue: new Float32Array(trees * S),
      leafPoint: new Int32Array(trees * (S + 1)),
    });
  }

  /** Reads the forest's arrays from a snapshot and rebuilds what they imply, refusing any that do not fit together. */
  static restore(config: ForestConfig, r: SnapshotReader): RandomCutForest {
    const { trees, sampleSize: S, dims } = config;
    const forest = new RandomCutForest(config, {
      clock: r.array('clock', Float64Array, 1),
      rng: r.array('rng', Uint32Array, RANDOM_STATE_WORDS),
      points: r.array('points', Float32Array, (trees * S + 1) * dims),
      priorities: r.array('priorities', Float64Array, trees * S),
      entries: r.array('entries', Int32Array, trees * S),
      sizes: r.array('sizes', Int32Array, trees),
      roots: r.array('roots', Int32Array, trees),
      left: r.array('left', Int32Array, trees * S),
      right: r.array('right', Int32Array, trees * S),
      cutDim: r.array('cutDim', Uint8Array, trees * S),
      cutValue: r.array('cutValue', Float32Array, trees * S),
      leafPoint: r.array('leafPoint', Int32Array, trees * (S + 1)),
    });
    forest.rebuild();
    return forest;
  }

  /** Points each tree holds (all trees fill together, so one number). */
  get size(): number {
    return this.a.sizes[0];
  }

  /** The CoDisp of `q` as if inserted, averaged over the trees. Reads only. */
  codisp(q: Float32Array): number {
    let sum = 0;
    for (let t = 0; t < this.config.trees; t++) sum += this.cutTrees.codisp(t, q);
    return sum / this.config.trees;
  }

  /** Offers `q` to every tree's sampler, and inserts it where accepted, in place of the evicted point. */
  update(q: Float32Array): void {
    this.pass(q, false);
  }

  /**
   * `codisp(q)` then `update(q)`, in one pass over the trees: a tree that takes the point
   * inserts it along the walk its scoring just made. A tree's score depends on that tree
   * alone (a store slot is only written while no tree holds it), so this is exactly
   * scoring every tree first. For a forest that holds points, as any worth scoring does.
   */
  codispThenUpdate(q: Float32Array): number {
    return this.pass(q, true);
  }

  private pass(q: Float32Array, scoring: boolean): number {
    const { trees, timeDecay } = this.config;
    const { rng } = this.a;
    const decay = timeDecay * ++this.a.clock[0];
    let sum = 0;
    let slot = -1;
    for (let t = 0; t < trees; t++) {
      if (scoring) sum += this.cutTrees.codisp(t, q);
      const priority = log(-log(nextUniform(rng))) - decay;
      if (!this.samplers.accepts(t, priority)) continue;
      const evicted = this.samplers.evictee(t);
      if (slot < 0) slot = this.store.add(q);
      const kept = scoring ? this.cutTrees.insertWalked(t, slot, rng) : this.cutTrees.insert(t, slot, q, rng);
      this.samplers.put(t, priority, kept);
      this.store.retain(kept);
      if (evicted >= 0) {
        this.cutTrees.remove(t, evicted);
        this.store.release(evicted);
      }
    }
    if (slot >= 0) this.store.dropIfUnreferenced(slot);
    return sum / trees;
  }

  /** Copies of the arrays a snapshot keeps, by name. */
  state(): Record<string, StateArray> {
    const out: Record<string, StateArray> = {};
    for (const [name, array] of Object.entries(this.a) as Array<[string, StateArray]>) {
      out[name] = array.slice();
    }
    return out;
  }

  private rebuild(): void {
    const { trees, sampleSize: S } = this.config;
    const { sizes, entries, clock } = this.a;
    const clockValue = clock[0];
    if (!(Number.isInteger(clockValue) && clockValue >= 0)) {
      this.corrupt(`clock ${clockValue} is not a count`);
    }
    // Every sampler takes every point until it is full.
    for (let t = 0; t < trees; t++) {
      if (sizes[t] !== Math.min(clockValue, S)) {
        this.corrupt(`sampler ${t} holds ${sizes[t]} points after ${clockValue}`);
      }
    }
    if (!this.samplers.wellFormed()) this.corrupt('a sampler is not a heap');
    for (let t = 0; t < trees; t++) {
      for (let i = 0; i < sizes[t]; i++) {
        const point = entries[t * S + i];
        if (!this.store.adopt(point)) this.corrupt(`sampler ${t} names point ${point}, outside the store`);
      }
    }
    this.cutTrees.rebuild(this.samplers);
  }

  private corrupt(why: string): never {
    throw new DetectorError(DetectorErrorCode.CORRUPT_SNAPSHOT, `rcf: ${why}`);
  }
}
