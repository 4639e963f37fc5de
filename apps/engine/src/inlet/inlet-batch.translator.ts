import { type DecodeResult, IngestException, type IngestLimits, JsonPointsDecoder } from '@seismo/ingest';
import { encodePointBatch, partitionOf, PointBatchBuilder } from '@seismo/pipeline';
import { type TenantId } from '@seismo/storage';
import { type Message } from 'kafkajs';
import { deadLetterMessage } from '../pipeline/dead-letter.message';

/** One message of an inlet topic, as kafkajs hands it over. */
export interface InletMessage {
  readonly offset: string;
  readonly value: Buffer | null;
  /** Epoch milliseconds, as a string: when the producer (or the broker) says it was written. */
  readonly timestamp: string;
}

/** Where a fetched batch came from: one partition of one inlet topic. */
export interface InletSource {
  readonly topic: string;
  readonly partition: number;
}

/** What a batch of inlet messages becomes: messages for the points topic and for the DLQ. */
export interface InletTranslation {
  /** Point batches, each for the partition partitionOf chose for its series. */
  readonly points: ReadonlyArray<{ readonly partition: number; readonly value: Buffer }>;
  readonly deadLetters: readonly Message[];
  readonly accepted: number;
  readonly rejected: number;
}

export interface InletBatchTranslatorOptions {
  /** Partitions of the points topic. */
  readonly partitions: number;
  /** The limits of `POST /v1/points`; default DEFAULT_INGEST_LIMITS. */
  readonly limits?: IngestLimits;
  /**
   * Bound on a produced point batch, below the broker's `message.max.bytes` (1 MiB by
   * default). Default 512 KiB. A batch is cut before it would take points from more input
   * bytes than this; the encoding is smaller than the JSON it came from (20 bytes a point,
   * each series name once), so the batch is smaller still. A single input message larger
   * than the bound makes a batch of its own, still smaller than that message.
   */
  readonly maxMessageBytes?: number;
}

/**
 * Turns the messages of a tenant's inlet topic into what `POST /v1/points` would have queued:
 * each message value is a request body (`{"points": [...]}`, read by the same decoder with the
 * same limits), and the valid points are grouped by partition into point batches, as
 * IngestService does.
 *
 * What is refused goes to the dead-letter topic with its reason and origin, and nothing else
 * is held back: a message that cannot be read at all goes whole, as it came; a bad point goes
 * alone, as `{"points": [<the point>]}` with the `source-index` header, so that it can be
 * fixed and sent again, while its neighbours are relayed.
 *
 * A point's timestamp is judged against the time its message was written, not the time it is
 * relayed: an inlet catching up on a backlog takes what was fresh when it was sent, and a
 * batch translated again after a failure comes out the same. Never later than this process's
 * clock, though: a producer's clock running ahead cannot let points from the future in.
 */
export class InletBatchTranslator {
  private readonly partitions: number;
  private readonly maxMessageBytes: number;
  private readonly decoder: JsonPointsDecoder;

  constructor(options: InletBatchTranslatorOptions) {
    if (!Number.isInteger(options.partitions) || options.partitions < 1) {
      throw new RangeError(`partitions must be a positive integer, got ${options.partitions}`);
    }
    const maxMessageBytes = options.maxMessageBytes ?? 512 * 1024;
    if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1) {
      throw new RangeError(`maxMessageBytes must be a positive integer, got ${maxMessageBytes}`);
    }
    this.partitions = options.partitions;
    this.maxMessageBytes = maxMessageBytes;
    this.decoder = new JsonPointsDecoder({ limits: options.limits });
  }

  translate(
    tenant: TenantId,
    source: InletSource,
    messages: readonly InletMessage[],
    now: number = Date.now(),
  ): InletTranslation {
    const points: Array<{ partition: number; value: Buffer }> = [];
    const deadLetters: Message[] = [];
    const builders = new Map<number, PointBatchBuilder>();
    /** Per open builder, the input bytes of the messages that gave it points. */
    const inputBytes = new Map<number, number>();
    /** The partitions the current message gave points to. */
    const touched = new Set<number>();
    const extra = { tenant };
    let accepted = 0;
    let rejected = 0;
    /** Points refused one by one: metered as rejected, like the `rejected` of a 202. */
    let refusedPoints = 0;
    for (const message of messages) {
      const origin = { ...source, offset: message.offset };
      if (message.value === null) {
        deadLetters.push(deadLetterMessage(new Uint8Array(0), 'message: has no value', origin, extra));
        rejected++;
        continue;
      }
      // Cut the batches that this message could push past the bound, before it adds to them.
      for (const [partition, bytes] of inputBytes) {
        if (bytes + message.value.byteLength > this.maxMessageBytes) {
          points.push({ partition, value: encodePointBatch(builders.get(partition)!.build()) });
          builders.delete(partition);
          inputBytes.delete(partition);
        }
      }
      const written = Number(message.timestamp);
      let decoded: DecodeResult;
      try {
        decoded = this.decoder.decode(message.value, written >= 0 ? Math.min(written, now) : now);
      } catch (error) {
        if (!(error instanceof IngestException)) throw error;
        deadLetters.push(deadLetterMessage(message.value, error.message, origin, extra));
        rejected++;
        continue;
      }
      for (const point of decoded.points) {
        const partition = partitionOf(tenant, point.series, this.partitions);
        let builder = builders.get(partition);
        if (!builder) {
          builder = new PointBatchBuilder(tenant);
          builders.set(partition, builder);
        }
        builder.add(point.series, point.t, point.value);
        touched.add(partition);
      }
      for (const partition of touched) {
        inputBytes.set(partition, (inputBytes.get(partition) ?? 0) + message.value.byteLength);
      }
      touched.clear();
      accepted += decoded.points.length;
      if (decoded.rejected.length > 0) {
        // The rare path: the body is valid JSON (it decoded), read again for the bad points.
        const inputs = (JSON.parse(message.value.toString('utf8')) as { points: unknown[] }).points;
        for (const { index, error } of decoded.rejected) {
          const alone = Buffer.from(JSON.stringify({ points: [inputs[index]] }));
          deadLetters.push(
            deadLetterMessage(alone, error, origin, { ...extra, 'source-index': String(index) }),
          );
        }
        rejected += decoded.rejected.length;
        refusedPoints += decoded.rejected.length;
      }
    }
    // The count of refused points rides in one produced batch (one of its own when none is
    // open), as IngestService does: the inlet's transaction makes it count exactly once.
    // Messages refused whole hold no countable points and are not metered.
    let reportIn: number | undefined;
    if (refusedPoints > 0) {
      reportIn = builders.size > 0 ? builders.keys().next().value! : partitionOf(tenant, '', this.partitions);
      if (!builders.has(reportIn)) builders.set(reportIn, new PointBatchBuilder(tenant));
    }
    for (const [partition, builder] of builders) {
      points.push({
        partition,
        value: encodePointBatch(builder.build(partition === reportIn ? refusedPoints : 0)),
      });
    }
    return { points, deadLetters, accepted, rejected };
  }

  /** Every message of the batch to the DLQ, whole, for `reason` (such as an unknown tenant). */
  refuse(source: InletSource, messages: readonly InletMessage[], reason: string): InletTranslation {
    const deadLetters = messages.map((message) =>
      deadLetterMessage(message.value ?? new Uint8Array(0), reason, { ...source, offset: message.offset }),
    );
    return { points: [], deadLetters, accepted: 0, rejected: messages.length };
  }
}
