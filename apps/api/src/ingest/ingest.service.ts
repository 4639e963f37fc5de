import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { type InfluxPrecision, IngestException, type Rejection } from '@seismo/ingest';
import { type PointProducer } from '@seismo/engine/pipeline/point-queue';
import { encodePointBatch, partitionOf, type PointBatch, PointBatchBuilder } from '@seismo/pipeline';
import { type TenantId } from '@seismo/storage';
import { arrivalsOf } from '../alerting/arrivals';
import { TenantLimiter } from '../limits/tenant.limiter';
import { SeismoRuntime } from '../runtime/seismo.runtime';
import { IngestDecoderPool } from './ingest-decoder.pool';
import { type IngestFormat } from './ingest-decoding';

/** The injection token of the number of decoding threads (SEISMO_INGEST_THREADS). */
export const INGEST_THREADS = 'seismo:ingest-threads';

export interface IngestAnswer {
  readonly accepted: number;
  readonly rejected: readonly Rejection[];
}

/** A partition's queue message: an encoded PointBatch. */
interface PartitionMessage {
  readonly partition: number;
  readonly bytes: Uint8Array;
}

/**
 * Takes a request body to the queue: decoded (on the decoding threads, when there are),
 * the tenant's limits applied, then cut into one batch per partition (a series always
 * maps to the same partition, so its points stay in order), each appended to the queue.
 * It resolves once every batch is in the queue, so a 202 means the points are taken;
 * when the engine falls behind, appends wait and so does the client: backpressure, not
 * loss. In Kafka mode "in the queue" means every in-sync replica has it (acks=all).
 */
@Injectable()
export class IngestService implements OnModuleDestroy {
  private readonly queue: PointProducer;
  private readonly decoders: IngestDecoderPool;
  private readonly limiter: TenantLimiter;

  constructor(
    private readonly runtime: SeismoRuntime,
    @Inject(INGEST_THREADS) threads: number,
  ) {
    if (!runtime.queue) throw new Error('ingest needs a queue to append to: this process runs no API');
    this.queue = runtime.queue;
    this.decoders = new IngestDecoderPool(threads);
    this.limiter = new TenantLimiter(runtime.limitListener);
  }

  /**
   * Limits after decoding (TenantLimiter): a request over a rate is refused whole before
   * anything is queued; points of new series beyond the series limit join the rejected
   * list with their index in the request, and the rest is queued.
   */
  async ingest(
    tenant: TenantId,
    format: IngestFormat,
    body: Uint8Array,
    precision?: InfluxPrecision,
  ): Promise<IngestAnswer> {
    const outcome = await this.decoders.decode({
      format,
      body,
      now: Date.now(),
      ...(precision ? { precision } : {}),
      tenant,
    });
    if (!outcome.ok) throw new IngestException(outcome.code, outcome.message);
    const { points, origins } = outcome;
    const limits = this.runtime.tenants.limitsOf(tenant);
    this.limiter.admit(tenant, limits, points.t.length);
    const perPoint = Array.from(points.seriesIndex, (i) => points.series[i]);
    const refusals = this.limiter.refuseNewSeries(tenant, limits, perPoint);
    let rejected = outcome.rejected;
    let refused: Set<number> | undefined;
    if (refusals.length > 0) {
      refused = new Set(refusals.map((r) => r.pointIndex));
      rejected = [
        ...rejected,
        ...refusals.map((r) => ({ index: origins[r.pointIndex], error: r.error })),
      ].sort((a, b) => a.index - b.index);
    }
    const messages = this.cut(tenant, points, refused, rejected.length);
    await Promise.all(messages.map(({ partition, bytes }) => this.queue.append(partition, bytes)));
    const accepted = points.t.length - (refused?.size ?? 0);
    // Counted after the appends: a point is accepted when the queue holds it, and an append that throws leaves none counted.
    const counted = this.runtime.metrics.ingestedPoints;
    counted.inc({ format, outcome: 'accepted' }, accepted);
    counted.inc({ format, outcome: 'rejected' }, rejected.length);
    // Embedded only: in Kafka mode the alerting process reads arrivals from the points topic.
    const watch = this.runtime.ingestArrivals;
    if (accepted > 0 && watch?.watches(tenant)) watch.seen(tenant, arrivalsOf(points, refused));
    return { accepted, rejected };
  }

  async onModuleDestroy(): Promise<void> {
    await this.decoders.close();
  }

  /**
   * One message per partition the accepted points fall on (the partition of each series
   * computed once). The request's refusals ride in one of them, a message of their own
   * when none was accepted, so the engine meters them with that message's batch: counted
   * once the queue holds it, like the accepted points, and never twice (the batch's
   * dedup token).
   */
  private cut(
    tenant: TenantId,
    points: PointBatch,
    refused: ReadonlySet<number> | undefined,
    rejected: number,
  ): PartitionMessage[] {
    const partitions = this.queue.partitions;
    const partitionOfSeries = points.series.map((name) => partitionOf(tenant, name, partitions));
    const builders = new Map<number, PointBatchBuilder>();
    const { series, seriesIndex, t, value } = points;
    for (let i = 0; i < t.length; i++) {
      if (refused?.has(i)) continue;
      const partition = partitionOfSeries[seriesIndex[i]];
      let builder = builders.get(partition);
      if (!builder) {
        builder = new PointBatchBuilder(tenant);
        builders.set(partition, builder);
      }
      builder.add(series[seriesIndex[i]], t[i], value[i]);
    }
    let reportedIn: number | undefined;
    if (rejected > 0) {
      reportedIn = builders.size > 0 ? builders.keys().next().value! : partitionOf(tenant, '', partitions);
      if (!builders.has(reportedIn)) builders.set(reportedIn, new PointBatchBuilder(tenant));
    }
    return [...builders].map(([partition, builder]) => ({
      partition,
      bytes: encodePointBatch(builder.build(partition === reportedIn ? rejected : 0)),
    }));
  }
}
