import { type ProcessedBatch } from './processed-batch';

/**
 * Where a processed batch goes before its offsets are committed. `write` resolves only
 * once the rows are durable, and writing the same batch again stores nothing new: the
 * engine retries a failed write, and replays a batch whose commit a crash prevented.
 */
export interface BatchSink {
  write(batch: ProcessedBatch): Promise<void>;
}
