/** Points of one tenant bound for one partition: the unit the API produces and the engine consumes. */
export interface PointBatch {
  readonly tenant: string;
  readonly series: readonly string[];
  /** Epoch milliseconds, one per point. */
  readonly t: Float64Array;
  readonly value: Float64Array;
  /** Index into `series`, one per point. */
  readonly seriesIndex: Uint32Array;
  /**
   * Points of the same ingest request refused at ingest (absent: 0). They travel with the
   * accepted ones so that the engine counts them for metering in the same durable write,
   * under the same dedup token: see IngestService.
   */
  readonly rejected?: number;
}

/** Builds a batch point by point, keeping each series name once. */
export class PointBatchBuilder {
  private readonly names: string[] = [];
  private readonly index = new Map<string, number>();
  private t: number[] = [];
  private value: number[] = [];
  private seriesIndex: number[] = [];

  constructor(readonly tenant: string) {}

  get size(): number {
    return this.t.length;
  }

  add(series: string, t: number, value: number): void {
    let i = this.index.get(series);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(series);
      this.index.set(series, i);
    }
    this.seriesIndex.push(i);
    this.t.push(t);
    this.value.push(value);
  }

  /** `rejected`: the points of the request refused at ingest that this batch reports, see PointBatch. */
  build(rejected = 0): PointBatch {
    return {
      tenant: this.tenant,
      series: this.names.slice(),
      t: Float64Array.from(this.t),
      value: Float64Array.from(this.value),
      seriesIndex: Uint32Array.from(this.seriesIndex),
      ...(rejected > 0 ? { rejected } : {}),
    };
  }
}

/** One partition's share of a batch, from splitByPartition. */
export interface PartitionShare {
  readonly partition: number;
  readonly batch: PointBatch;
}

/**
 * Cuts `batch` into one batch per partition its points fall on, `partitionOfSeries[s]`
 * being the partition of `batch.series[s]`; points whose index is in `skip` are left out.
 * The points keep their order, each share names its series in the order of their first
 * point (as a PointBatchBuilder fed the same points would), and the shares come in the
 * order of their first point. Two passes over typed arrays, no lookup per point: it runs
 * on every ingest request.
 */
export function splitByPartition(
  batch: PointBatch,
  partitionOfSeries: ArrayLike<number>,
  skip?: ReadonlySet<number>,
): PartitionShare[] {
  const { series, seriesIndex, t, value } = batch;
  if (partitionOfSeries.length !== series.length) {
    throw new RangeError(`${partitionOfSeries.length} partitions for ${series.length} series`);
  }
  const slotOf = new Map<number, number>();
  const partitionOfSlot: number[] = [];
  const counts: number[] = [];
  const names: string[][] = [];
  // Per series, found on its first point: its share and its index among that share's series.
  const slotOfSeries = new Int32Array(series.length).fill(-1);
  const localIndex = new Uint32Array(series.length);
  for (let i = 0; i < t.length; i++) {
    if (skip?.has(i)) continue;
    const s = seriesIndex[i];
    let slot = slotOfSeries[s];
    if (slot < 0) {
      const partition = partitionOfSeries[s];
      let found = slotOf.get(partition);
      if (found === undefined) {
        found = counts.length;
        slotOf.set(partition, found);
        partitionOfSlot.push(partition);
        counts.push(0);
        names.push([]);
      }
      slot = found;
      slotOfSeries[s] = slot;
      localIndex[s] = names[slot].length;
      names[slot].push(series[s]);
    }
    counts[slot]++;
  }
  const shares = counts.map((count) => ({
    t: new Float64Array(count),
    value: new Float64Array(count),
    seriesIndex: new Uint32Array(count),
    filled: 0,
  }));
  for (let i = 0; i < t.length; i++) {
    if (skip?.has(i)) continue;
    const s = seriesIndex[i];
    const share = shares[slotOfSeries[s]];
    const at = share.filled++;
    share.t[at] = t[i];
    share.value[at] = value[i];
    share.seriesIndex[at] = localIndex[s];
  }
  return shares.map((share, slot) => ({
    partition: partitionOfSlot[slot],
    batch: {
      tenant: batch.tenant,
      series: names[slot],
      t: share.t,
      value: share.value,
      seriesIndex: share.seriesIndex,
    },
  }));
}
