import { Transform, type TransformCallback } from 'node:stream';
import { assertFinitePoint, type Detector, DetectorError } from '@seismo/detectors';
import { type SeriesBatch, SeriesCsvReader } from '@seismo/series-csv';
import { MAX_SCORE_BYTES, writeScore } from './score.formatter';

export const SCORED_CSV_HEADER = 'timestamp,value,anomaly_score';

const HEADER_LINE = Buffer.from(`${SCORED_CSV_HEADER}\n`);
const COMMA = 0x2c;
const LF = 0x0a;
/** What a row can add to its input text: a comma, a score and a line break. */
const ROW_GROWTH = 1 + MAX_SCORE_BYTES + 1;

/**
 * Bytes of a `timestamp,value` CSV in, bytes of `timestamp,value,anomaly_score` out:
 * one output row per input row, in input order, each scored online. `detector.step`
 * sees the rows in file order, so every score comes from earlier rows only, exactly
 * as the engine would have scored them live. The timestamp and value are copied
 * through byte for byte; only the score is written.
 */
export class ScoringTransform extends Transform {
  private readonly reader: SeriesCsvReader;
  private headerWritten = false;

  /** `source` names the input in error messages. */
  constructor(
    private readonly detector: Detector,
    source: string,
  ) {
    super();
    this.reader = new SeriesCsvReader(source);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.forward(this.reader.push(chunk), done);
  }

  override _flush(done: TransformCallback): void {
    this.forward(this.reader.end(), done);
  }

  /** Scores a chunk's rows before the next chunk is read, so the first bad row is the one reported. */
  private forward(read: Promise<SeriesBatch>, done: TransformCallback): void {
    read
      .then((batch) => this.score(batch))
      .then(
        (output) => done(null, output.length > 0 ? output : undefined),
        (error: unknown) => done(error as Error),
      );
  }

  private score(batch: SeriesBatch): Buffer {
    const { length, times, values, lines, source, starts, ends } = batch;
    const header = !this.headerWritten && this.reader.hasHeader;
    // Row texts are disjoint spans of `source`, so this bounds the output.
    const output = Buffer.allocUnsafe(
      (header ? HEADER_LINE.length : 0) + source.length + length * ROW_GROWTH,
    );
    // Written through a plain Uint8Array view: V8 indexes one faster than a Buffer.
    const out = new Uint8Array(output.buffer, output.byteOffset, output.length);
    let o = 0;
    if (header) {
      out.set(HEADER_LINE);
      o = HEADER_LINE.length;
      this.headerWritten = true;
    }
    const detector = this.detector;
    let i = 0;
    try {
      for (; i < length; i++) {
        const value = values[i];
        const t = times[i];
        assertFinitePoint(value, t);
        const score = detector.step(value, t);
        if (!(score >= 0 && score <= 1)) {
          const where = `${this.reader.source}:${lines[i]}`;
          throw new RangeError(
            `${where}: detector '${detector.kind}' returned the score ${score}, outside [0, 1]`,
          );
        }
        for (let p = starts[i], end = ends[i]; p < end; p++) out[o++] = source[p];
        out[o++] = COMMA;
        o = writeScore(out, o, score);
        out[o++] = LF;
      }
    } catch (error) {
      // The detectors' messages name the field; the row's place in the input is added here.
      if (!(error instanceof DetectorError)) throw error;
      throw new DetectorError(error.code, `${this.reader.source}:${lines[i]}: ${error.message}`);
    }
    return output.subarray(0, o);
  }
}
