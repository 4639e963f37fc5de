/**
 * Where the Kafka queue cuts a partition's messages into batches, so that a batch delivered
 * again (after a handler failure, a crash or a rebalance) has exactly the offset range it had
 * the first time, and therefore the same dedup token in every sink.
 *
 * Kafka fetches return whatever the broker had at that moment, so cutting "what the fetch
 * returned" would not repeat: a replay that finds more messages would cover a wider range,
 * its token would differ, and ClickHouse would store its points twice. Two rules fix that:
 *
 * 1. A batch never crosses a multiple of `maxBatchMessages`: a full block `[k*N, k*N+N-1]`
 *    is cut the same way whenever it is read, with no bookkeeping.
 * 2. A batch that ends before its block does (the partition had no more messages yet) is a
 *    "partial cut". Its last offset is recorded with the group's committed offset, in the
 *    commit's metadata string, BEFORE the batch is delivered; whoever reads the partition
 *    next (this consumer after a failure, another after a crash) reads it back and cuts there
 *    again. Committing the unchanged offset with new metadata moves nothing forward.
 *
 * Recorded cuts at or below the committed offset are dropped at every commit, so the list
 * holds only the batches delivered and not yet committed: a few with the engine's runner,
 * whose commits wait up to the usage linger (half a second).
 */

/** Offset metadata prefix: a version, so that a later format can tell old entries apart. */
const METADATA_PREFIX = 'seismo-cuts/1:';

/**
 * Most partial cuts kept uncommitted per partition. Kafka limits commit metadata to
 * `offset.metadata.max.bytes` (4096 by default); 64 offsets of up to 16 digits fit.
 */
export const MAX_PENDING_CUTS = 64;

export function encodeCuts(cuts: readonly number[]): string {
  return METADATA_PREFIX + cuts.join(',');
}

/** The cuts in a commit's metadata; none for metadata this queue did not write. */
export function decodeCuts(metadata: string | null | undefined): number[] {
  if (!metadata?.startsWith(METADATA_PREFIX)) return [];
  const body = metadata.slice(METADATA_PREFIX.length);
  if (body === '') return [];
  const cuts = body.split(',').map(Number);
  if (!cuts.every((cut) => Number.isSafeInteger(cut) && cut >= 0)) {
    throw new Error(`offset metadata '${metadata}' holds something other than offsets`);
  }
  return cuts.sort((a, b) => a - b);
}

/** What to deliver from `start` given the offsets available now. */
export type CutDecision =
  /** Deliver up to and including `end`; `record` when it is a new partial cut. */
  | { readonly kind: 'deliver'; readonly end: number; readonly record: boolean }
  /** Nothing can be delivered yet: a recorded cut lies beyond what is available, or too many partial cuts are pending. */
  | { readonly kind: 'wait' };

/**
 * The end of the batch that starts at `start`, when messages up to `lastAvailable` are at
 * hand. `cuts` are the recorded partial cuts, ascending.
 */
export function cutAt(
  start: number,
  lastAvailable: number,
  cuts: readonly number[],
  maxBatchMessages: number,
): CutDecision {
  const blockEnd = Math.floor(start / maxBatchMessages) * maxBatchMessages + maxBatchMessages - 1;
  const recorded = cuts.find((cut) => cut >= start);
  // A recorded cut inside this block ends the batch there; one beyond it belongs to a later block.
  if (recorded !== undefined && recorded <= blockEnd) {
    return recorded <= lastAvailable ? { kind: 'deliver', end: recorded, record: false } : { kind: 'wait' };
  }
  if (lastAvailable >= blockEnd) return { kind: 'deliver', end: blockEnd, record: false };
  if (cuts.length >= MAX_PENDING_CUTS) return { kind: 'wait' };
  return { kind: 'deliver', end: lastAvailable, record: true };
}
