import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Piscina } from 'piscina';
import { type DecodeOutcome, type DecodeTask, IngestDecoders } from './ingest-decoding';

/**
 * Where decoding runs. Parsing a JSON body, checking every point and encoding the queue
 * messages is most of the work of a request, and it would otherwise share the main thread
 * with the engine (in embedded and role=all processes): with `threads` > 0 it runs on that
 * many worker threads (piscina), and the main thread only moves bytes. With 0 it runs
 * inline, as on a single-core machine where a thread would only add copies.
 *
 * The body is copied to the thread and the messages back (structured clone: a few hundred
 * microseconds for a 5,000-point request), which keeps the request's buffers the
 * framework's own.
 */
export class IngestDecoderPool {
  private readonly inline: IngestDecoders | undefined;
  private readonly pool: Piscina | undefined;

  constructor(readonly threads: number) {
    if (!Number.isInteger(threads) || threads < 0) {
      throw new RangeError(`threads must be a non-negative integer, got ${threads}`);
    }
    if (threads === 0) {
      this.inline = new IngestDecoders();
      return;
    }
    this.pool = new Piscina({
      filename: workerScript(),
      minThreads: threads,
      maxThreads: threads,
      // The threads hold the decoders' caches: they live as long as the pool.
      idleTimeout: Number.POSITIVE_INFINITY,
    });
  }

  decode(task: DecodeTask): Promise<DecodeOutcome> {
    if (this.inline) return Promise.resolve(this.inline.decode(task));
    return this.pool!.run(task) as Promise<DecodeOutcome>;
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }
}

/**
 * The compiled worker module. Under the test runner this file is TypeScript, which a
 * worker thread cannot load: the build's copy is used (the end-to-end tests build first).
 */
function workerScript(): string {
  const here = __filename.endsWith('.ts')
    ? join(resolve(__dirname, '../../../..'), 'dist/apps/api/src/ingest')
    : __dirname;
  const script = join(here, 'ingest.worker.js');
  if (!existsSync(script)) {
    throw new Error(
      `the ingest worker ${script} is not built: run npm run build, or set SEISMO_INGEST_THREADS=0`,
    );
  }
  return script;
}
