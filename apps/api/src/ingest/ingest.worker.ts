import { type DecodeOutcome, type DecodeTask, IngestDecoders } from './ingest-decoding';

/**
 * A decoding thread of the ingest pool (piscina runs this module's default export for each
 * task): its decoders, and their caches, live as long as the thread.
 */
const decoders = new IngestDecoders();

export default function decode(task: DecodeTask): DecodeOutcome {
  return decoders.decode(task);
}
