import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ReadProgress } from './read.progress';

/** A stand-in for stderr that records what is drawn on it. */
function terminal(isTTY: boolean): { stream: NodeJS.WriteStream; drawn: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  Object.assign(stream, { isTTY, columns: 100 });
  return { stream: stream as unknown as NodeJS.WriteStream, drawn: () => chunks.join('') };
}

describe('ReadProgress', () => {
  it('draws no bar on a stream that is not a terminal, or for an input of unknown size', () => {
    expect(ReadProgress.on(terminal(false).stream, 1000)).toBeUndefined();
    expect(ReadProgress.on(terminal(true).stream, undefined)).toBeUndefined();
  });

  it('passes the bytes through untouched and shows how many were read', async () => {
    const { stream, drawn } = terminal(true);
    const progress = ReadProgress.on(stream, 3_000_000);
    if (!progress) throw new Error('expected a bar on a terminal');
    const chunks = [Buffer.alloc(1_000_000, 'a'), Buffer.alloc(1_500_000, 'b'), Buffer.alloc(500_000, 'c')];
    const received: Buffer[] = [];
    await pipeline(
      Readable.from(chunks),
      progress.counter(),
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          received.push(chunk);
          done();
        },
      }),
    );
    progress.stop();
    expect(Buffer.concat(received).equals(Buffer.concat(chunks))).toBe(true);
    expect(drawn()).toContain('100% | 3.0/3.0 MB');
  });
});
