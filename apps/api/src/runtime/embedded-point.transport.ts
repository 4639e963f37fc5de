import { randomBytes } from 'node:crypto';
import { InMemoryPointLog } from '@seismo/engine/pipeline/in-memory-point.log';
import { InMemoryPointQueue } from '@seismo/engine/pipeline/in-memory-point.queue';
import { type BrokerStatus, type PointTransport } from './point.transport';

/** Uncommitted bytes one partition of the embedded queue holds before ingest waits. */
const MAX_PENDING_BYTES = 64 * 1024 * 1024;

/** Embedded mode: an in-process log, ingest appending to it and the engine reading it. */
export class EmbeddedPointTransport implements PointTransport {
  readonly mode = 'embedded';
  readonly partitions: number;
  readonly producer: InMemoryPointLog;
  readonly consumer: InMemoryPointQueue;
  // The embedded log starts again at offset 0 on every start, so its dedup tokens name
  // this run: a new batch must not match the token of one written before a restart.
  readonly source = `embedded-${randomBytes(6).toString('hex')}`;

  constructor(partitions: number, maxBatchMessages: number) {
    this.partitions = partitions;
    this.producer = new InMemoryPointLog({ partitions, maxPendingBytes: MAX_PENDING_BYTES });
    this.consumer = new InMemoryPointQueue(this.producer, { maxBatchMessages });
  }

  pendingBytes = (partition: number): number => this.producer.pendingBytes(partition);

  lag = (): Promise<readonly number[]> =>
    Promise.resolve(Array.from({ length: this.partitions }, (_, p) => this.producer.pendingMessages(p)));

  brokerStatus(): Promise<BrokerStatus> {
    return Promise.resolve({ status: 'embedded' });
  }

  async close(): Promise<void> {
    // The engine stopped the queue already; a second stop is a no-op, and the log holds no connection.
    await this.consumer.stop();
  }
}
