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
import { type PointBatch, PointBatchBuilder } from '@seismo/pipeline';

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
}

/**
 * A decoded request: its accepted points as one PointBatch (the request's tenant, each
 * series named once), `origins[i]` locating point i in the request (its index, line or
 * series: what a refusal names), and the refused inputs. A body that cannot be read at
 * all is the `refused` outcome, carrying the IngestException's code and message (an
 * outcome, not a thrown error, so that it crosses a worker thread intact). Columns, not
 * objects: they cross a thread as a few copies.
 */
export type DecodeOutcome =
  | {
      readonly ok: true;
      readonly points: PointBatch;
      readonly origins: Uint32Array;
      readonly rejected: readonly Rejection[];
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

  /** Decodes `task.body` into columns. */
  decode(task: DecodeTask): DecodeOutcome {
    let decoded: DecodeResult;
    try {
      decoded = this.formatDecode(task);
    } catch (error) {
      if (error instanceof IngestException) return { ok: false, code: error.code, message: error.message };
      throw error;
    }
    const builder = new PointBatchBuilder(task.tenant);
    for (const point of decoded.points) builder.add(point.series, point.t, point.value);
    return {
      ok: true,
      points: builder.build(),
      origins: Uint32Array.from(decoded.origins),
      rejected: decoded.rejected,
    };
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
