import { Transform, type TransformCallback } from 'node:stream';
import { Presets, SingleBar } from 'cli-progress';

const MB = 1e6;

/**
 * A progress bar for reading an input of known size: bytes read against the size,
 * counted by a pass-through placed right after the input. Drawn only on a terminal;
 * a log file or a pipe gets no bar.
 */
export class ReadProgress {
  private readonly bar: SingleBar;
  private bytes = 0;

  private constructor(terminal: NodeJS.WriteStream, total: number) {
    this.bar = new SingleBar(
      {
        stream: terminal,
        format: '{bar} {percentage}% | {value}/{total} MB | {eta_formatted} left',
        formatValue: (value, _options, type) =>
          type === 'value' || type === 'total' ? (value / MB).toFixed(1) : String(value),
        hideCursor: true,
      },
      Presets.shades_classic,
    );
    this.bar.start(total, 0);
  }

  /** A bar on `terminal`, or none when it is not a terminal or the size is unknown. */
  static on(terminal: NodeJS.WriteStream, total: number | undefined): ReadProgress | undefined {
    return terminal.isTTY && total ? new ReadProgress(terminal, total) : undefined;
  }

  /** The pass-through that counts; put it in the pipeline just after the input. */
  counter(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) => {
        this.bytes += chunk.length;
        this.bar.update(this.bytes);
        done(null, chunk);
      },
    });
  }

  stop(): void {
    this.bar.stop();
  }
}
