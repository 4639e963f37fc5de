import { DetectorError, DetectorErrorCode } from '../errors';
import { type PointStore } from './point-store';
import { nextUniform } from './random';
import { type ReservoirSamplers } from './sampler';
import { SlotAllocator } from './slots';

// Bound once: inside a vm context (as Jest runs code) every `Math.x` in a hot loop is a slow global lookup.
const { abs, min, max, fround } = Math;

/** The root of a tree that holds no point. */
export const EMPTY = 0x7fffffff;

/**
 * The structure of every tree: what a snapshot keeps. Masses and bounding boxes are
 * derived from it. Each tree has `sampleSize` internal slots and `sampleSize + 1` leaf
 * slots: it holds one point more than its sample between taking a new point and
 * letting the evicted one go.
 */
export interface TreeArrays {
  /** Per tree, the root: an internal node, a leaf (see below), or EMPTY. */
  readonly roots: Int32Array;
  /**
   * Children of internal nodes. A child `c >= 0` is internal node `c`; `c < 0` is leaf
   * `~c`. Points with `x[cutDim] <= cutValue` go left.
   */
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly cutDim: Uint8Array;
  readonly cutValue: Float32Array;
  /** Per leaf, the point-store slot of its point. */
  readonly leafPoint: Int32Array;
}

/**
 * Robust random cut trees (Guha et al., ICML 2016), all of them in shared typed arrays,
 * tree `t` owning the t-th block of each. A leaf holds one distinct point and its mass
 * counts the sampler entries equal to it. Every internal node caches its mass, its
 * bounding box (D lows then D highs, float32 like the points) and the sum of the box's
 * sides, so that a step of the walk up needs only the dimensions the point is outside.
 *
 * Scoring and insertion share one walk (`walk`): down the cuts to the leaf where a point
 * would land, then back up through the boxes the point lies outside of. A fused step
 * scores a tree and, if its sampler takes the point, inserts along the same walk.
 */
export class RandomCutTrees {
  private readonly inner: number;
  private readonly leaves: number;
  private readonly mass: Int32Array;
  private readonly leafMass: Int32Array;
  private readonly box: Float32Array;
  private readonly sides: Float64Array;
  private readonly innerSlots: SlotAllocator;
  private readonly leafSlots: SlotAllocator;

  // The last walk: internal nodes from the root, the leaf reached, and for each node
  // from the leaf up to (not including) `top`, the first box containing the point, how
  // far the point lies outside it (`gap`) and its sides grown to include it (`span`).
  private readonly path: Int32Array;
  /** Per depth, the largest sibling-to-own mass ratio of the nodes above, the point counted on its side. */
  private readonly above: Float64Array;
  private readonly gap: Float64Array;
  private readonly span: Float64Array;
  /** Scratch: dimensions in which the point is not yet inside a box on the way up. */
  private readonly open: Int32Array;
  private depth = 0;
  private leaf = 0;
  private top = -1;
  private ratio = 0;
  /** L1 distance from the point to the leaf's point; 0 when they are equal. */
  private distance = 0;

  constructor(
    readonly trees: number,
    readonly sampleSize: number,
    readonly dims: number,
    private readonly store: PointStore,
    readonly arrays: TreeArrays,
  ) {
    this.inner = sampleSize;
    this.leaves = sampleSize + 1;
    this.mass = new Int32Array(trees * this.inner);
    this.leafMass = new Int32Array(trees * this.leaves);
    this.box = new Float32Array(trees * this.inner * 2 * dims);
    this.sides = new Float64Array(trees * this.inner);
    this.innerSlots = new SlotAllocator(trees, this.inner);
    this.leafSlots = new SlotAllocator(trees, this.leaves);
    this.path = new Int32Array(this.inner);
    this.above = new Float64Array(this.inner);
    this.gap = new Float64Array(this.inner);
    this.span = new Float64Array(this.inner);
    this.open = new Int32Array(dims);
  }

  /**
   * The collusive displacement (CoDisp) the point `q` would have if inserted into tree
   * `t`, in expectation over the insertion's random cut, computed without changing it.
   *
   * Inserting q separates it at node v with probability p_v, the share of v's box grown
   * to include q that lies outside v's box, provided it was not separated above. q then
   * becomes the sibling of v's subtree, and its CoDisp (the largest ratio of sibling mass
   * to own mass over its ancestors) is the larger of mass(v) and the ratios of the nodes
   * above v, each counting q on its own side. If q reaches a leaf it is split off it, or
   * joins it when equal. So E[CoDisp] = sum over v of p_v * prod_above(1 - p_u) * D_v.
   *
   * The sum is taken as AWS's score visitor takes its own: from the leaf upwards,
   * E_v = p_v * D_v + (1 - p_v) * E_child, ending at the first box that contains q,
   * where p = 0 and stays 0 all the way up.
   */
  codisp(t: number, q: Float32Array): number {
    if (this.arrays.roots[t] === EMPTY) return 0;
    this.walk(t, q);
    const { path, above, gap, span, mass } = this;
    const ib = t * this.inner;
    const m = this.leafMass[this.leaf];
    let expected = this.distance === 0 || this.ratio > m ? this.ratio : m;
    for (let k = this.depth - 1; k > this.top; k--) {
      const p = gap[k] / span[k];
      const a = above[k];
      const n = mass[ib + path[k]];
      expected = p * (n > a ? n : a) + (1 - p) * expected;
    }
    return expected;
  }

  /**
   * Inserts the point stored in `point`, whose coordinates are `q`, and returns the slot
   * the tree holds it under: an equal point already there absorbs it as a leaf of
   * greater mass, so duplicates cost no node.
   */
  insert(t: number, point: number, q: Float32Array, rng: Uint32Array): number {
    if (this.arrays.roots[t] === EMPTY) {
      this.arrays.roots[t] = ~this.newLeaf(t, point);
      return point;
    }
    this.walk(t, q);
    return this.insertWalked(t, point, rng);
  }

  /**
   * `insert` for the point `codisp` just scored in this tree, which is unchanged since:
   * the walk is already done.
   *
   * RRCF inserts from the root down: at each node it draws a cut uniformly over the box
   * grown to include the point, and the first cut that falls in the growth separates the
   * point there. Drawing the same cuts from the leaf upwards and keeping the highest that
   * separates (as AWS's tree does) gives the same distribution, and needs no box above
   * the first that already contains the point, where no cut can separate it.
   */
  insertWalked(t: number, point: number, rng: Uint32Array): number {
    const { path, gap, span, depth, top } = this;
    const ib = t * this.inner;
    if (this.distance === 0) {
      this.leafMass[this.leaf]++;
      for (let k = 0; k < depth; k++) this.mass[ib + path[k]]++;
      return this.arrays.leafPoint[this.leaf];
    }
    // A leaf's box is its point, so a cut through the grown box always separates there.
    let at = depth;
    let offset = nextUniform(rng) * this.distance;
    for (let k = depth - 1; k > top; k--) {
      const r = nextUniform(rng) * span[k];
      if (r < gap[k]) {
        at = k;
        offset = r;
      }
    }
    const node = at === depth ? ~(this.leaf - t * this.leaves) : path[at];
    this.split(t, node, at, point, offset);
    return point;
  }

  /** Removes one sampler entry's worth of `point`, which the tree must hold. */
  remove(t: number, point: number): void {
    const { dims: D, path } = this;
    const { roots, left, right, cutDim, cutValue, leafPoint } = this.arrays;
    const coords = this.store.coords;
    const ib = t * this.inner;
    const x = point * D;
    let node = roots[t];
    let depth = 0;
    while (node >= 0 && node !== EMPTY) {
      path[depth++] = node;
      const g = ib + node;
      node = coords[x + cutDim[g]] <= cutValue[g] ? left[g] : right[g];
    }
    const leaf = t * this.leaves + ~node;
    if (node === EMPTY || leafPoint[leaf] !== point) {
      throw new Error(`rcf: tree ${t} does not hold point ${point} its sampler evicted`);
    }
    for (let k = 0; k < depth; k++) this.mass[ib + path[k]]--;
    if (--this.leafMass[leaf] > 0) return;

    leafPoint[leaf] = 0;
    this.leafSlots.release(t, ~node);
    if (depth === 0) {
      roots[t] = EMPTY;
      return;
    }
    // The leaf's parent goes too: its other child takes its place.
    const parent = path[depth - 1];
    const gp = ib + parent;
    const sibling = left[gp] === node ? right[gp] : left[gp];
    if (depth === 1) {
      roots[t] = sibling;
    } else {
      const g = ib + path[depth - 2];
      if (left[g] === parent) left[g] = sibling;
      else right[g] = sibling;
    }
    left[gp] = 0;
    right[gp] = 0;
    cutDim[gp] = 0;
    cutValue[gp] = 0;
    this.innerSlots.release(t, parent);
    // Once a box keeps its extent, so do all above it.
    for (let k = depth - 2; k >= 0 && this.shrinkBox(t, path[k], x); k--);
  }

  /**
   * Rebuilds masses, boxes and slot allocators from restored structure and samplers,
   * checking on the way that it is a well-formed forest over exactly the sampled points.
   */
  rebuild(samplers: ReservoirSamplers): void {
    const tally = new Int32Array(this.store.capacity);
    for (let t = 0; t < this.trees; t++) {
      const base = t * samplers.capacity;
      const size = samplers.sizes[t];
      for (let i = 0; i < size; i++) tally[samplers.points[base + i]]++;
      const root = this.arrays.roots[t];
      const held = root === EMPTY ? 0 : this.restoreSubtree(t, root, tally);
      if (held !== size) this.corrupt(t, `holds ${held} points but its sampler ${size}`);
    }
  }

  /**
   * Walks `q` down tree `t` (which holds a point) to the leaf where it would land, then
   * back up while `q` lies outside the boxes, filling the fields of the last walk. Going
   * up, a dimension in which q is inside a box stays inside every box above, so each
   * level only looks at the dimensions still open.
   */
  private walk(t: number, q: Float32Array): void {
    const { dims: D, box, mass, leafMass, path, above, gap, span, open } = this;
    const { left, right, cutDim, cutValue, leafPoint } = this.arrays;
    const ib = t * this.inner;
    const lb = t * this.leaves;
    let node = this.arrays.roots[t];
    let depth = 0;
    let ratio = 0;
    while (node >= 0) {
      const g = ib + node;
      path[depth] = node;
      above[depth++] = ratio;
      let child: number;
      let other: number;
      if (q[cutDim[g]] <= cutValue[g]) {
        child = left[g];
        other = right[g];
      } else {
        child = right[g];
        other = left[g];
      }
      const own = child >= 0 ? mass[ib + child] : leafMass[lb + ~child];
      const sibling = other >= 0 ? mass[ib + other] : leafMass[lb + ~other];
      const r = sibling / (own + 1);
      if (r > ratio) ratio = r;
      node = child;
    }
    const leaf = lb + ~node;
    const coords = this.store.coords;
    const y = leafPoint[leaf] * D;
    let distance = 0;
    for (let d = 0; d < D; d++) {
      open[d] = d;
      distance += abs(q[d] - coords[y + d]);
    }
    let k = depth - 1;
    for (let n = D; k >= 0; k--) {
      const g = ib + path[k];
      const b = g * 2 * D;
      let outside = 0;
      for (let i = 0; i < n;) {
        const d = open[i];
        const v = q[d];
        const lo = box[b + d];
        const hi = box[b + D + d];
        if (v < lo) {
          outside += lo - v;
          i++;
        } else if (v > hi) {
          outside += v - hi;
          i++;
        } else {
          open[i] = open[--n];
        }
      }
      if (n === 0) break;
      gap[k] = outside;
      span[k] = this.sides[g] + outside;
    }
    this.depth = depth;
    this.leaf = leaf;
    this.top = k;
    this.ratio = ratio;
    this.distance = distance;
  }

  private restoreSubtree(t: number, node: number, tally: Int32Array): number {
    if (node < 0) {
      const slot = ~node;
      if (slot >= this.leaves || !this.leafSlots.mark(t, slot)) {
        this.corrupt(t, `has leaf ${slot} twice or out of range`);
      }
      const leaf = t * this.leaves + slot;
      const point = this.arrays.leafPoint[leaf];
      if (!(point >= 0 && point < this.store.capacity) || tally[point] === 0) {
        this.corrupt(t, `has a leaf on point ${point}, which its sampler does not hold`);
      }
      // Zeroing the tally makes a second leaf on the same point fail the check above.
      this.leafMass[leaf] = tally[point];
      tally[point] = 0;
      return this.leafMass[leaf];
    }
    if (node >= this.inner || !this.innerSlots.mark(t, node)) {
      this.corrupt(t, `has node ${node} twice or out of range`);
    }
    const g = t * this.inner + node;
    const { left, right, cutDim, cutValue } = this.arrays;
    const l = left[g];
    const r = right[g];
    const m = this.restoreSubtree(t, l, tally) + this.restoreSubtree(t, r, tally);
    this.mass[g] = m;
    this.refitBox(t, node);
    const d = cutDim[g];
    const D = this.dims;
    const coords = this.store.coords;
    const leftHigh = d < D ? (l >= 0 ? this.box : coords)[this.lowOffset(t, l) + (l >= 0 ? D : 0) + d] : NaN;
    const rightLow = d < D ? (r >= 0 ? this.box : coords)[this.lowOffset(t, r) + d] : NaN;
    if (!(leftHigh <= cutValue[g] && cutValue[g] < rightLow)) {
      this.corrupt(t, `has node ${node} whose cut does not separate its children`);
    }
    return m;
  }

  /** Sets a node's box to the union of its children's. */
  private refitBox(t: number, node: number): void {
    const { dims: D, box } = this;
    const coords = this.store.coords;
    const g = t * this.inner + node;
    const b = g * 2 * D;
    const l = this.arrays.left[g];
    const r = this.arrays.right[g];
    const ls = l >= 0 ? box : coords;
    const lLow = this.lowOffset(t, l);
    const lHigh = l >= 0 ? lLow + D : lLow;
    const rs = r >= 0 ? box : coords;
    const rLow = this.lowOffset(t, r);
    const rHigh = r >= 0 ? rLow + D : rLow;
    for (let d = 0; d < D; d++) {
      box[b + d] = min(ls[lLow + d], rs[rLow + d]);
      box[b + D + d] = max(ls[lHigh + d], rs[rHigh + d]);
    }
    this.measure(g);
  }

  /**
   * Refits a node's box after the point at store offset `x` left its subtree: only the
   * faces the point lay on can move. Returns whether any did.
   */
  private shrinkBox(t: number, node: number, x: number): boolean {
    const { dims: D, box } = this;
    const coords = this.store.coords;
    const g = t * this.inner + node;
    const b = g * 2 * D;
    const l = this.arrays.left[g];
    const r = this.arrays.right[g];
    const ls = l >= 0 ? box : coords;
    const lLow = this.lowOffset(t, l);
    const lHigh = l >= 0 ? lLow + D : lLow;
    const rs = r >= 0 ? box : coords;
    const rLow = this.lowOffset(t, r);
    const rHigh = r >= 0 ? rLow + D : rLow;
    let changed = false;
    for (let d = 0; d < D; d++) {
      const v = coords[x + d];
      if (v === box[b + d]) {
        const lo = min(ls[lLow + d], rs[rLow + d]);
        if (lo !== v) {
          box[b + d] = lo;
          changed = true;
        }
      }
      if (v === box[b + D + d]) {
        const hi = max(ls[lHigh + d], rs[rHigh + d]);
        if (hi !== v) {
          box[b + D + d] = hi;
          changed = true;
        }
      }
    }
    if (changed) this.measure(g);
    return changed;
  }

  /**
   * Recomputes the sum of a box's sides, always from the box and in the same order, so
   * that a restored forest, which measures its boxes afresh, gets the very same sums.
   */
  private measure(g: number): void {
    const { dims: D, box } = this;
    const b = g * 2 * D;
    let sum = 0;
    for (let d = 0; d < D; d++) sum += box[b + D + d] - box[b + d];
    this.sides[g] = sum;
  }

  /**
   * Where a child's box starts: its lows in `box` for an internal node (highs follow),
   * its point in the store for a leaf (whose lows and highs are both the point).
   */
  private lowOffset(t: number, child: number): number {
    return child >= 0
      ? (t * this.inner + child) * 2 * this.dims
      : this.arrays.leafPoint[t * this.leaves + ~child] * this.dims;
  }

  private newLeaf(t: number, point: number): number {
    const slot = this.leafSlots.claim(t);
    this.arrays.leafPoint[t * this.leaves + slot] = point;
    this.leafMass[t * this.leaves + slot] = 1;
    return slot;
  }

  /**
   * Separates `point` from `node`, found at `depth` of the last walk, with the cut
   * `offset` lands on, `offset` being uniform over the growth of node's box towards the
   * point.
   */
  private split(t: number, node: number, depth: number, point: number, offset: number): void {
    const { dims: D, box, path } = this;
    const { roots, left, right, cutDim, cutValue } = this.arrays;
    const coords = this.store.coords;
    const ib = t * this.inner;
    const x = point * D;
    const src = node >= 0 ? box : coords;
    const low = this.lowOffset(t, node);
    const high = node >= 0 ? low + D : low;
    let dim = -1;
    let rest = offset;
    for (let d = 0; d < D; d++) {
      const v = coords[x + d];
      const lo = src[low + d];
      const hi = src[high + d];
      const gap = v < lo ? lo - v : v > hi ? v - hi : 0;
      if (gap === 0) continue;
      dim = d;
      if (rest < gap) break;
      // Should rounding carry the offset a hair past the last gap, the guards below keep the cut inside it.
      rest -= gap;
    }
    const v = coords[x + dim];
    const lo = src[low + dim];
    const hi = src[high + dim];
    // The cut is stored as float32, like the points; rounding must not carry it to the
    // far side of the gap, where it would no longer separate.
    let cut: number;
    const pointGoesLeft = v < lo;
    if (pointGoesLeft) {
      cut = fround(v + rest);
      if (cut >= lo) cut = v;
    } else {
      cut = fround(hi + rest);
      if (cut >= v) cut = hi;
    }

    const n = this.innerSlots.claim(t);
    const g = ib + n;
    const leaf = ~this.newLeaf(t, point);
    cutDim[g] = dim;
    cutValue[g] = cut;
    left[g] = pointGoesLeft ? leaf : node;
    right[g] = pointGoesLeft ? node : leaf;
    this.mass[g] = (node >= 0 ? this.mass[ib + node] : this.leafMass[t * this.leaves + ~node]) + 1;
    this.refitBox(t, n);
    if (depth === 0) {
      roots[t] = n;
    } else {
      const a = ib + path[depth - 1];
      if (left[a] === node) left[a] = n;
      else right[a] = n;
    }
    for (let k = 0; k < depth; k++) this.mass[ib + path[k]]++;
    // The boxes the walk found the point outside of grow to take it in.
    for (let k = this.top + 1; k < depth; k++) {
      const a = ib + path[k];
      const b = a * 2 * D;
      for (let d = 0; d < D; d++) {
        const c = coords[x + d];
        if (c < box[b + d]) box[b + d] = c;
        if (c > box[b + D + d]) box[b + D + d] = c;
      }
      this.measure(a);
    }
  }

  private corrupt(t: number, why: string): never {
    throw new DetectorError(DetectorErrorCode.CORRUPT_SNAPSHOT, `rcf: tree ${t} ${why}`);
  }
}
