import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { type InfluxPrecision, IngestException, type Rejection } from '@seismo/ingest';
import { type PointProducer } from '@seismo/engine/pipeline/point-queue';
import { SeismoRuntime } from '../runtime/seismo.runtime';
import { IngestDecoderPool } from './ingest-decoder.pool';
import { type IngestFormat } from './ingest-decoding';

/** The injection token of the number of decoding threads (SEISMO_INGEST_THREADS). */
export const INGEST_THREADS = 'seismo:ingest-threads';

export interface IngestAnswer {
  readonly accepted: number;
  readonly rejected: readonly Rejection[];
}

/**
 * Takes a request body to the queue: decoded (on the decoding threads), one batch per
 * partition, each appended to the queue. It resolves once every batch is in the queue,
 * so a 202 means the points are taken; when the engine falls behind, appends wait and so
 * does the client: backpressure, not loss. In Kafka mode "in the queue" means every
 * in-sync replica has it (acks=all).
 */
@Injectable()
export class IngestService implements OnModuleDestroy {
  private readonly queue: PointProducer;
  private readonly decoders: IngestDecoderPool;

  constructor(
    private readonly runtime: SeismoRuntime,
    @Inject(INGEST_THREADS) threads: number,
  ) {
    if (!runtime.queue) throw new Error('ingest needs a queue to append to: this process runs no API');
    this.queue = runtime.queue;
    this.decoders = new IngestDecoderPool(threads);
  }

  async ingest(
    tenant: string,
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
      partitions: this.queue.partitions,
    });
    if (!outcome.ok) throw new IngestException(outcome.code, outcome.message);
    await Promise.all(outcome.messages.map(({ partition, bytes }) => this.queue.append(partition, bytes)));
    // Counted after the appends: a point is accepted when the queue holds it, and an append that throws leaves none counted.
    const counted = this.runtime.metrics.ingestedPoints;
    counted.inc({ format, outcome: 'accepted' }, outcome.accepted);
    counted.inc({ format, outcome: 'rejected' }, outcome.rejected.length);
    return { accepted: outcome.accepted, rejected: outcome.rejected };
  }

  async onModuleDestroy(): Promise<void> {
    await this.decoders.close();
  }
}
