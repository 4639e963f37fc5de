import { type PointConsumer, type PointProducer } from '@seismo/engine/pipeline/point-queue';
import { type QueueDepthSource } from '../metrics/seismo.metrics';

/** What a broker check found: embedded mode has no broker; a broker that cannot be reached throws. */
export type BrokerStatus =
  | { readonly status: 'embedded' }
  | { readonly status: 'up'; readonly brokers: number; readonly cluster_id: string };

/**
 * The queue between ingest and the engine as one process sees it: the embedded log, or
 * Kafka. The pipeline code above it is the same in both; only what this file's two
 * implementations hand out differs, and what a process gets depends on its role.
 */
export interface PointTransport extends QueueDepthSource {
  readonly mode: 'embedded' | 'kafka';
  /** Where ingest appends; absent in a process that runs no API (role engine). */
  readonly producer: PointProducer | undefined;
  /** What the engine reads; absent in a process that runs no engine (role api). */
  readonly consumer: PointConsumer | undefined;
  /**
   * Names this log in the sinks' dedup tokens (`<source>/<partition>/<first>-<last>`): two logs
   * whose offsets overlap must have different sources, or ClickHouse drops one's batches as repeats.
   */
  readonly source: string;
  /**
   * Names this log in the detector checkpoints: the log whose offsets they cover. Kafka's is
   * its source; the embedded log's is the same on every start, since its offsets go on from
   * where the checkpoints left them.
   */
  readonly checkpointSource: string;
  /** Whether the broker answers; throws (or times out) when it does not. */
  brokerStatus(): Promise<BrokerStatus>;
  /** Stops consuming, waits for appends already made, and lets go of every connection. */
  close(): Promise<void>;
}
