import { SlotAllocator } from './slots';

/**
 * The shingles the forest holds, shared by every tree (as AWS's PointStore): a tree's
 * leaf and a sampler's entry name a point by its slot, so a shingle kept by thirty
 * trees is stored once. A slot is freed when the last sampler entry naming it goes.
 */
export class PointStore {
  private readonly refs: Int32Array;
  private readonly slots: SlotAllocator;

  constructor(
    readonly dims: number,
    readonly capacity: number,
    /** `capacity * dims` coordinates, slot by slot; zeros in free slots. */
    readonly coords: Float32Array,
  ) {
    this.refs = new Int32Array(capacity);
    this.slots = new SlotAllocator(1, capacity);
  }

  /** Copies `point` into the lowest free slot, referenced by nothing yet. */
  add(point: Float32Array): number {
    const slot = this.slots.claim(0);
    this.coords.set(point, slot * this.dims);
    return slot;
  }

  retain(slot: number): void {
    this.refs[slot]++;
  }

  release(slot: number): void {
    if (--this.refs[slot] === 0) this.free(slot);
  }

  /** Frees a slot from `add` when every tree kept an equal point it already had instead. */
  dropIfUnreferenced(slot: number): void {
    if (this.refs[slot] === 0) this.free(slot);
  }

  /** Counts a reference found in a restored sampler; false if the slot is out of range. */
  adopt(slot: number): boolean {
    if (!(slot >= 0 && slot < this.capacity)) return false;
    if (this.refs[slot]++ === 0) this.slots.mark(0, slot);
    return true;
  }

  private free(slot: number): void {
    // Zeroed, so the snapshot of a free slot is the same whatever it held before.
    this.coords.fill(0, slot * this.dims, (slot + 1) * this.dims);
    this.slots.release(0, slot);
  }
}
