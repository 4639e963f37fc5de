import { Injectable } from '@nestjs/common';
import { type DecodeResult, type Rejection } from '@seismo/ingest';
import { type TenantId } from '@seismo/storage';
import { type PointProducer } from '@seismo/engine/pipeline/point-queue';
import { encodePointBatch, partitionOf, PointBatchBuilder } from '@seismo/pipeline';
import { type IngestFormat } from '../metrics/seismo.metrics';
import { TenantLimiter } from '../limits/tenant.limiter';
import { SeismoRuntime } from '../runtime/seismo.runtime';

export interface IngestAnswer {
  readonly accepted: number;
  readonly rejected: readonly Rejection[];
}

/**
 * Hands decoded points to the engine: one batch per partition (a series always maps
 * to the same partition, so its points stay in order), appended to the queue. It
 * resolves once every batch is in the queue, so a 202 means the points are taken; when
 * the engine falls behind, appends wait and so does the client: backpressure, not loss.
 * In Kafka mode "in the queue" means every in-sync replica has it (acks=all).
 */
@Injectable()
export class IngestService {
  private readonly queue: PointProducer;
  private readonly limiter: TenantLimiter;

  constructor(private readonly runtime: SeismoRuntime) {
    if (!runtime.queue) throw new Error('ingest needs a queue to append to: this process runs no API');
    this.queue = runtime.queue;
    this.limiter = new TenantLimiter(runtime.limitListener);
  }

  /**
   * Limits first (TenantLimiter): a request over a rate is refused whole before anything
   * is queued; points of new series beyond the series limit join the rejected list with
   * their index, and the rest is queued.
   */
  async ingest(tenant: TenantId, format: IngestFormat, decoded: DecodeResult): Promise<IngestAnswer> {
    const limits = this.runtime.tenants.limitsOf(tenant);
    this.limiter.admit(tenant, limits, decoded.points.length);
    const refusals = this.limiter.refuseNewSeries(tenant, limits, decoded.points);
    let points = decoded.points;
    let rejected: readonly Rejection[] = decoded.rejected;
    if (refusals.length > 0) {
      const refusedIndexes = new Set(refusals.map((r) => r.pointIndex));
      points = points.filter((_, i) => !refusedIndexes.has(i));
      rejected = [
        ...rejected,
        ...refusals.map((r) => ({ index: decoded.origins[r.pointIndex], error: r.error })),
      ].sort((a, b) => a.index - b.index);
    }
    const partitions = this.queue.partitions;
    const builders = new Map<number, PointBatchBuilder>();
    for (const point of points) {
      const partition = partitionOf(tenant, point.series, partitions);
      let builder = builders.get(partition);
      if (!builder) {
        builder = new PointBatchBuilder(tenant);
        builders.set(partition, builder);
      }
      builder.add(point.series, point.t, point.value);
    }
    await Promise.all(
      [...builders].map(([partition, builder]) =>
        this.queue.append(partition, encodePointBatch(builder.build())),
      ),
    );
    // Counted after the appends: a point is accepted when the queue holds it, and an append that throws leaves none counted.
    const counted = this.runtime.metrics.ingestedPoints;
    counted.inc({ format, outcome: 'accepted' }, points.length);
    counted.inc({ format, outcome: 'rejected' }, rejected.length);
    return { accepted: points.length, rejected };
  }
}
