// Bound once: inside a vm context (as Jest runs code) every `Math.x` in a hot loop is a slow global lookup.
const { clz32 } = Math;

/**
 * Fixed pools of numbered slots (tree nodes, stored points) that always hand out the
 * lowest free number. Where a node or a point lands then depends only on which slots
 * are in use, never on the order they were freed in: the allocator is rebuilt from the
 * live structure on restore, no free list goes into the snapshot, and a restored
 * detector lays out its arrays exactly as the original would have.
 */
export class SlotAllocator {
  private readonly words: number;
  private readonly used: Uint32Array;
  /** Per group, no word before this one has a free bit: pools fill from the bottom, so scans start high. */
  private readonly firstOpen: Int32Array;

  constructor(
    readonly groups: number,
    readonly slots: number,
  ) {
    this.words = (slots + 31) >>> 5;
    this.used = new Uint32Array(groups * this.words);
    this.firstOpen = new Int32Array(groups);
  }

  /** The lowest free slot of `group`, now taken. */
  claim(group: number): number {
    const base = group * this.words;
    for (let w = this.firstOpen[group]; w < this.words; w++) {
      const word = this.used[base + w];
      if (word === 0xffffffff) continue;
      const lowestZero = ~word & (word + 1);
      const slot = (w << 5) + 31 - clz32(lowestZero);
      if (slot >= this.slots) break;
      this.used[base + w] = word | lowestZero;
      this.firstOpen[group] = w;
      return slot;
    }
    // Every pool is sized for the most the forest can hold at once (see RandomCutForest).
    throw new Error(`rcf: slot pool of ${this.slots} exhausted, which its sizing rules out`);
  }

  release(group: number, slot: number): void {
    const w = slot >>> 5;
    this.used[group * this.words + w] &= ~(1 << (slot & 31));
    if (w < this.firstOpen[group]) this.firstOpen[group] = w;
  }

  /** Takes a given slot while rebuilding; false if it was already taken. */
  mark(group: number, slot: number): boolean {
    const i = group * this.words + (slot >>> 5);
    const bit = 1 << (slot & 31);
    if (this.used[i] & bit) return false;
    this.used[i] |= bit;
    return true;
  }
}
