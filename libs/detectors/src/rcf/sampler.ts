/**
 * One time-decayed weighted reservoir per tree, as AWS's CompactSampler: the point
 * arriving as number `i` gets the priority `log(-log u) - timeDecay * i` (u uniform), and
 * each reservoir keeps the `capacity` lowest priorities it was offered. That is
 * Efraimidis-Spirakis sampling with weight e^(timeDecay * i): a point's chance of still
 * being in the sample fades exponentially with its age, and timeDecay = 0 is a uniform
 * sample of the whole stream.
 *
 * Each reservoir is a max-heap over its block of `capacity` entries, so the entry to
 * evict is always at the top. Priorities fall by timeDecay per point without bound; as
 * doubles they stay resolved to 1e-6 for the first 10^13 points at the default decay.
 */
export class ReservoirSamplers {
  constructor(
    readonly trees: number,
    readonly capacity: number,
    /** `trees * capacity` priorities; each tree's block is a max-heap of its first `sizes[t]` entries. */
    readonly priorities: Float64Array,
    /** The point-store slot of each entry, parallel to `priorities`. */
    readonly points: Int32Array,
    readonly sizes: Int32Array,
  ) {}

  /**
   * While a reservoir fills it takes every point (AWS's sampler with initialAcceptFraction
   * = 1, its older behaviour), so all trees fill together and hold `grace` points after
   * exactly `grace` offers; after that, only points that outrank its weakest.
   */
  accepts(tree: number, priority: number): boolean {
    return this.sizes[tree] < this.capacity || priority < this.priorities[tree * this.capacity];
  }

  /** The point `put` will evict from a full reservoir, or -1 while it is filling. */
  evictee(tree: number): number {
    return this.sizes[tree] < this.capacity ? -1 : this.points[tree * this.capacity];
  }

  /** Adds an accepted point, evicting the weakest entry if the reservoir is full. */
  put(tree: number, priority: number, point: number): void {
    const base = tree * this.capacity;
    const size = this.sizes[tree];
    if (size < this.capacity) {
      this.sizes[tree] = size + 1;
      this.siftUp(base, size, priority, point);
    } else {
      this.siftDown(base, size, priority, point);
    }
  }

  /** Whether every reservoir is a valid max-heap: the check a restored snapshot must pass. */
  wellFormed(): boolean {
    for (let t = 0; t < this.trees; t++) {
      const base = t * this.capacity;
      const size = this.sizes[t];
      if (!(size >= 0 && size <= this.capacity)) return false;
      for (let i = 1; i < size; i++) {
        const p = this.priorities[base + i];
        if (!(p <= this.priorities[base + ((i - 1) >> 1)])) return false;
      }
    }
    return true;
  }

  private siftUp(base: number, at: number, priority: number, point: number): void {
    const w = this.priorities;
    const p = this.points;
    let i = at;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (w[base + parent] >= priority) break;
      w[base + i] = w[base + parent];
      p[base + i] = p[base + parent];
      i = parent;
    }
    w[base + i] = priority;
    p[base + i] = point;
  }

  /** Puts the entry at the top, replacing what was there, and moves it down to its place. */
  private siftDown(base: number, size: number, priority: number, point: number): void {
    const w = this.priorities;
    const p = this.points;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && w[base + child + 1] > w[base + child]) child++;
      if (w[base + child] <= priority) break;
      w[base + i] = w[base + child];
      p[base + i] = p[base + child];
      i = child;
    }
    w[base + i] = priority;
    p[base + i] = point;
  }
}
