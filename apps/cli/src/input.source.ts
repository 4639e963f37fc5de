import { fstatSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { type Readable } from 'node:stream';
import { IoError } from './io.error';

/** A read chunk holds some ten thousand rows: few enough calls per file, little memory. */
const READ_CHUNK_BYTES = 256 * 1024;

export interface InputSource {
  /** How messages name the input: its path as given, or `<stdin>`. */
  readonly name: string;
  readonly stream: Readable;
  /** Bytes to read, when the input is a regular file; unknown for a pipe or a terminal. */
  readonly size: number | undefined;
}

/** The input a command line names: a file, or standard input for `-`. */
export async function openInput(path: string): Promise<InputSource> {
  if (path === '-') {
    const stats = fstatSync(process.stdin.fd);
    return { name: '<stdin>', stream: process.stdin, size: stats.isFile() ? stats.size : undefined };
  }
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new IoError('read', path, error);
  }
  const stats = await handle.stat();
  if (stats.isDirectory()) {
    await handle.close();
    throw new IoError('read', path, 'it is a directory');
  }
  return {
    name: path,
    stream: handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES }),
    size: stats.isFile() ? stats.size : undefined,
  };
}
