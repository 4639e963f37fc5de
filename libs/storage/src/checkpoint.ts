import { type TenantId } from './tenant-id';

/** The state of one series as of a checkpoint's offset. */
export interface SeriesCheckpoint {
  readonly tenantId: TenantId;
  readonly series: string;
  /** The encoded state (opaque to storage). */
  readonly state: Uint8Array;
}

/** What a partition's checkpoints say when read back for a restore. */
export interface PartitionCheckpoint {
  /**
   * The offset of the newest complete round: every series of the partition is covered up
   * to it. -1 when no round completed yet (replay from the start of the log).
   */
  readonly offset: number;
  /** Each series' newest state, with the offset it covers (at least `offset`, or older and unchanged since). */
  readonly series: ReadonlyArray<SeriesCheckpoint & { readonly offset: number }>;
}
