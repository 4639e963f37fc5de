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
