import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { type InfluxPrecision, IngestException, RecentCache, type Rejection } from '@seismo/ingest';
import { type PointProducer } from '@seismo/engine/pipeline/point-queue';
import { encodePointBatch, partitionOf, type PointBatch, splitByPartition } from '@seismo/pipeline';
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

/** A partition's queue message: a PointBatch, and its encoding. */
interface PartitionMessage {
  readonly partition: number;
  readonly batch: PointBatch;
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
  /** Per tenant, the partition of each series seen recently: hashing a series name costs more than finding it. */
  private readonly partitionCaches = new Map<TenantId, RecentCache<number>>();

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
    const refusals = this.limiter.refuseNewSeries(tenant, limits, points);
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
    await Promise.all(
      messages.map(({ partition, bytes, batch }) => this.queue.append(partition, bytes, batch)),
    );
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
   * One message per partition the accepted points fall on (each series' partition
   * remembered from its earlier requests). The request's refusals ride in one of them, a
   * message of their own when none was accepted, so the engine meters them with that
   * message's batch: counted once the queue holds it, like the accepted points, and never
   * twice (the batch's dedup token).
   */
  private cut(
    tenant: TenantId,
    points: PointBatch,
    refused: ReadonlySet<number> | undefined,
    rejected: number,
  ): PartitionMessage[] {
    const shares = splitByPartition(points, this.partitionsOf(tenant, points.series), refused);
    let reportedIn: number | undefined;
    if (rejected > 0) {
      reportedIn = shares.length > 0 ? shares[0].partition : partitionOf(tenant, '', this.queue.partitions);
      if (shares.length === 0) shares.push({ partition: reportedIn, batch: emptyBatch(tenant) });
    }
    return shares.map(({ partition, batch: share }) => {
      const batch = partition === reportedIn ? { ...share, rejected } : share;
      return { partition, batch, bytes: encodePointBatch(batch) };
    });
  }

  private partitionsOf(tenant: TenantId, series: readonly string[]): Uint32Array {
    let cache = this.partitionCaches.get(tenant);
    if (!cache) {
      cache = new RecentCache<number>();
      this.partitionCaches.set(tenant, cache);
    }
    const partitions = this.queue.partitions;
    const out = new Uint32Array(series.length);
    for (let s = 0; s < series.length; s++) {
      let partition = cache.get(series[s]);
      if (partition === undefined) {
        partition = partitionOf(tenant, series[s], partitions);
        cache.set(series[s], partition);
      }
      out[s] = partition;
    }
    return out;
  }
}

function emptyBatch(tenant: TenantId): PointBatch {
  return {
    tenant,
    series: [],
    t: new Float64Array(0),
    value: new Float64Array(0),
    seriesIndex: new Uint32Array(0),
  };
}
