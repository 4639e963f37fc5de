import { randomBytes } from 'node:crypto';
import { InMemoryPointLog } from '@seismo/engine/pipeline/in-memory-point.log';
import { InMemoryPointQueue } from '@seismo/engine/pipeline/in-memory-point.queue';
import { type CheckpointRepository } from '@seismo/storage';
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

  readonly checkpointSource = 'embedded';

  private constructor(partitions: number, maxBatchMessages: number, firstOffsets: readonly number[]) {
    this.partitions = partitions;
    this.producer = new InMemoryPointLog({ partitions, maxPendingBytes: MAX_PENDING_BYTES, firstOffsets });
    this.consumer = new InMemoryPointQueue(this.producer, { maxBatchMessages });
  }

  /**
   * Each partition's offsets go on past the highest one its checkpoints cover, so that a
   * checkpoint of this run is never older, by offset, than one of the run before.
   */
  static async open(
    partitions: number,
    maxBatchMessages: number,
    checkpoints: Pick<CheckpointRepository, 'lastOffset'>,
  ): Promise<EmbeddedPointTransport> {
    const firstOffsets: number[] = [];
    for (let p = 0; p < partitions; p++) firstOffsets.push((await checkpoints.lastOffset('embedded', p)) + 1);
    return new EmbeddedPointTransport(partitions, maxBatchMessages, firstOffsets);
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
