import {
  type DecodeResult,
  type InfluxPrecision,
  InfluxLineDecoder,
  IngestException,
  type IngestExceptionCode,
  JsonPointsDecoder,
  type Rejection,
  RemoteWriteDecoder,
} from '@seismo/ingest';
import { encodePointBatch, partitionOf, PointBatchBuilder } from '@seismo/pipeline';

/** The ingest formats, one per route. */
export type IngestFormat = 'json' | 'influx' | 'remote_write';

/** One request body to decode, and what its points are cut by. */
export interface DecodeTask {
  readonly format: IngestFormat;
  readonly body: Uint8Array;
  /** The server's epoch milliseconds when the request arrived: the accepted window's centre. */
  readonly now: number;
  /** Influx timestamps' unit (the `precision` parameter, checked by the route). */
  readonly precision?: InfluxPrecision;
  readonly tenant: string;
  readonly partitions: number;
}

/** The queue message of one partition: an encoded PointBatch. */
export interface PartitionMessage {
  readonly partition: number;
  readonly bytes: Uint8Array;
}

/**
 * A decoded request, ready for the queue: the accepted points as one message per partition
 * they fall on, and the refused ones named. A body that cannot be read at all is the
 * `refused` outcome, carrying the IngestException's code and message (an outcome, not a
 * thrown error, so that it crosses a worker thread intact).
 */
export type DecodeOutcome =
  | {
      readonly ok: true;
      readonly accepted: number;
      readonly rejected: readonly Rejection[];
      readonly messages: readonly PartitionMessage[];
    }
  | { readonly ok: false; readonly code: IngestExceptionCode; readonly message: string };

/**
 * The decoders of one thread. They keep caches (identities of series already seen), so a
 * thread holds one set for its life rather than one per request.
 */
export class IngestDecoders {
  private readonly json = new JsonPointsDecoder();
  private readonly influx = new InfluxLineDecoder();
  private readonly remoteWrite = new RemoteWriteDecoder();

  /**
   * Decodes `task.body`, and cuts the accepted points into one PointBatch per partition
   * (a series always maps to the same partition, so its points stay in order).
   */
  decode(task: DecodeTask): DecodeOutcome {
    let decoded: DecodeResult;
    try {
      decoded = this.formatDecode(task);
    } catch (error) {
      if (error instanceof IngestException) return { ok: false, code: error.code, message: error.message };
      throw error;
    }
    const builders = new Map<number, PointBatchBuilder>();
    for (const point of decoded.points) {
      const partition = partitionOf(task.tenant, point.series, task.partitions);
      let builder = builders.get(partition);
      if (!builder) {
        builder = new PointBatchBuilder(task.tenant);
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
      reportedIn =
        builders.size > 0 ? builders.keys().next().value! : partitionOf(task.tenant, '', task.partitions);
      if (!builders.has(reportedIn)) builders.set(reportedIn, new PointBatchBuilder(task.tenant));
    }
    const messages: PartitionMessage[] = [];
    for (const [partition, builder] of builders) {
      messages.push({
        partition,
        bytes: encodePointBatch(builder.build(partition === reportedIn ? rejected : 0)),
      });
    }
    return { ok: true, accepted: decoded.points.length, rejected: decoded.rejected, messages };
  }

  private formatDecode(task: DecodeTask): DecodeResult {
    switch (task.format) {
      case 'json':
        return this.json.decode(task.body, task.now);
      case 'influx':
        return this.influx.decode(task.body, task.now, task.precision ?? 'ns');
      case 'remote_write':
        return this.remoteWrite.decode(task.body, task.now);
    }
  }
}
