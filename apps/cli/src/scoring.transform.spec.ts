import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import {
  createDetector,
  DEFAULT_DETECTOR,
  type Detector,
  DetectorErrorCode,
  type DetectorSnapshot,
} from '@seismo/detectors';
import { SeriesCsvErrorCode } from '@seismo/series-csv';
import { ScoringTransform } from './scoring.transform';

/** Scores `chunks` (the input, cut where the test likes) and returns the output text. */
async function score(
  chunks: string[],
  detector: Detector = createDetector(DEFAULT_DETECTOR),
): Promise<string> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      out.push(chunk);
      done();
    },
  });
  await pipeline(
    Readable.from(chunks.map((c) => Buffer.from(c))),
    new ScoringTransform(detector, 'data.csv'),
    sink,
  );
  return Buffer.concat(out).toString();
}

/** Answers a fixed sequence of scores and records what it was asked. */
class ScriptedDetector implements Detector {
  readonly kind = 'scripted';
  readonly seen: Array<[number, number]> = [];

  constructor(private readonly scores: number[]) {}

  step(value: number, t: number): number {
    this.seen.push([value, t]);
    return this.scores[this.seen.length - 1];
  }
  learn(): void {
    throw new Error('the transform calls step');
  }
  score(): number {
    throw new Error('the transform calls step');
  }
  snapshot(): DetectorSnapshot {
    throw new Error('not used');
  }
}

function series(length: number): string {
  const rows = ['timestamp,value'];
  for (let i = 0; i < length; i++) {
    const t = new Date(Date.UTC(2014, 6, 1) + i * 300_000).toISOString().slice(0, 19).replace('T', ' ');
    rows.push(`${t},${(50 + 10 * Math.sin(i / 7) + (i % 97 === 60 ? 40 : 0)).toFixed(2)}`);
  }
  return rows.join('\n') + '\n';
}

describe('ScoringTransform', () => {
  it('steps the detector through the rows in file order and appends each score to the row as written', async () => {
    const detector = new ScriptedDetector([0, 0.25, 1, 0.1234567]);
    const output = await score(
      [
        'timestamp,value\n',
        '2014-07-01 00:05:00,1.50\n',
        '"2014-07-01 00:00:00",-2\r\n',
        '1404172800,3e2\n\n2014-07-01T00:00:00Z,4',
      ],
      detector,
    );
    expect(output).toBe(
      'timestamp,value,anomaly_score\n' +
        '2014-07-01 00:05:00,1.50,0\n' +
        '"2014-07-01 00:00:00",-2,0.25\n' +
        '1404172800,3e2,1\n' +
        '2014-07-01T00:00:00Z,4,0.123457\n',
    );
    const t0 = Date.UTC(2014, 6, 1);
    expect(detector.seen).toEqual([
      [1.5, t0 + 300_000],
      [-2, t0],
      [300, t0],
      [4, t0],
    ]);
  });

  it('writes the header alone for an input with no rows', async () => {
    expect(await score(['timestamp,value\n'])).toBe('timestamp,value,anomaly_score\n');
  });

  it('writes the same bytes however the input arrives', async () => {
    const input = series(400);
    const whole = await score([input]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: input.length - 1 }), { maxLength: 20 }),
        async (cuts) => {
          const at = [0, ...[...new Set(cuts)].sort((a, b) => a - b), input.length];
          const chunks = at.slice(1).map((end, k) => input.slice(at[k], end));
          expect(await score(chunks)).toBe(whole);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('never looks ahead: the scores of a prefix do not change when rows follow it', async () => {
    const input = series(400);
    const whole = (await score([input])).split('\n');
    for (const rows of [1, 17, 200]) {
      const prefix =
        input
          .split('\n')
          .slice(0, rows + 1)
          .join('\n') + '\n';
      expect((await score([prefix])).split('\n').slice(0, rows + 1)).toEqual(whole.slice(0, rows + 1));
    }
  });

  it('refuses a non-finite value through the detectors’ gate, naming the line', async () => {
    await expect(score(['timestamp,value\n2014-07-01,1\n2014-07-02,Infinity\n'])).rejects.toMatchObject({
      code: DetectorErrorCode.INVALID_POINT,
      message: 'data.csv:3: value must be a finite number, got Infinity',
    });
  });

  it('passes the reader’s errors on', async () => {
    await expect(score(['timestamp,value\n2014-07-01,x\n'])).rejects.toMatchObject({
      code: SeriesCsvErrorCode.BAD_VALUE,
      line: 2,
    });
  });

  it('refuses a score outside [0, 1] rather than write it', async () => {
    await expect(
      score(['timestamp,value\n2014-07-01,1\n2014-07-02,2\n'], new ScriptedDetector([0.5, 1.5])),
    ).rejects.toThrow("data.csv:3: detector 'scripted' returned the score 1.5, outside [0, 1]");
  });
});
