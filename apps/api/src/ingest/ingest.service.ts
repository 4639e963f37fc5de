import { Injectable } from '@nestjs/common';
import { type DecodeResult, type Rejection } from '@seismo/ingest';
import { type PointProducer } from '@seismo/engine/pipeline/point-queue';
import { encodePointBatch, partitionOf, PointBatchBuilder } from '@seismo/pipeline';
import { type IngestFormat } from '../metrics/seismo.metrics';
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

  constructor(private readonly runtime: SeismoRuntime) {
    if (!runtime.queue) throw new Error('ingest needs a queue to append to: this process runs no API');
    this.queue = runtime.queue;
  }

  async ingest(tenant: string, format: IngestFormat, decoded: DecodeResult): Promise<IngestAnswer> {
    const partitions = this.queue.partitions;
    const builders = new Map<number, PointBatchBuilder>();
    for (const point of decoded.points) {
      const partition = partitionOf(tenant, point.series, partitions);
      let builder = builders.get(partition);
      if (!builder) {
        builder = new PointBatchBuilder(tenant);
        builders.set(partition, builder);
      }
      builder.add(point.series, point.t, point.value);
    }
    // The refused points ride in one of the request's messages (a message of their own when
    // none was accepted), so the engine meters them with that message's batch: counted once
    // the queue holds it, like the accepted points, and never twice (the batch's dedup token).
    const rejected = decoded.rejected.length;
    let reportedIn: number | undefined;
    if (rejected > 0) {
      reportedIn = builders.size > 0 ? builders.keys().next().value! : partitionOf(tenant, '', partitions);
      if (!builders.has(reportedIn)) builders.set(reportedIn, new PointBatchBuilder(tenant));
    }
    await Promise.all(
      [...builders].map(([partition, builder]) =>
        this.queue.append(
          partition,
          encodePointBatch(builder.build(partition === reportedIn ? rejected : 0)),
        ),
      ),
    );
    // Counted after the appends: a point is accepted when the queue holds it, and an append that throws leaves none counted.
    const counted = this.runtime.metrics.ingestedPoints;
    counted.inc({ format, outcome: 'accepted' }, decoded.points.length);
    counted.inc({ format, outcome: 'rejected' }, decoded.rejected.length);
    return { accepted: decoded.points.length, rejected: decoded.rejected };
  }
}
