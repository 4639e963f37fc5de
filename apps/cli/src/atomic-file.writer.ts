import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { IoError } from './io.error';

/**
 * A file that appears complete or not at all. It is written under a temporary name
 * in the target's directory, flushed to disk, then renamed over the target, which
 * POSIX makes atomic; a run that fails removes the temporary file and leaves any
 * earlier file at the target as it was.
 */
export class AtomicFileWriter {
  private constructor(
    readonly path: string,
    private readonly temporaryPath: string,
    readonly stream: WriteStream,
  ) {}

  /** Creates the temporary file now, so a directory that cannot be written fails before any work. */
  static async open(path: string): Promise<AtomicFileWriter> {
    const temporaryPath = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
    // `flush` syncs the data before the file is closed, so the rename never publishes
    // a file whose bytes are still only in the page cache.
    const stream = createWriteStream(temporaryPath, { flags: 'wx', flush: true });
    try {
      await once(stream, 'open');
    } catch (error) {
      throw new IoError('write', path, error);
    }
    return new AtomicFileWriter(path, temporaryPath, stream);
  }

  /** Publishes the file; call once everything has been written to `stream` and it has ended. */
  async commit(): Promise<void> {
    await this.closed();
    // A failed flush or close is reported on the stream, after the pipeline has ended.
    const failure = this.stream.errored;
    try {
      if (failure) throw failure;
      await rename(this.temporaryPath, this.path);
    } catch (error) {
      throw new IoError('write', this.path, error);
    }
  }

  /** Discards what was written. */
  async abort(): Promise<void> {
    this.stream.destroy();
    await this.closed();
    await unlink(this.temporaryPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  /** Resolves once the file is closed, whether its stream finished or failed. */
  private closed(): Promise<void> {
    if (this.stream.closed) return Promise.resolve();
    return new Promise((done) => this.stream.once('close', () => done()));
  }
}
