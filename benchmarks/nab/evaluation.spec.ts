import { type Detector, type DetectorSnapshot } from '@seismo/detectors';
import { type Corpus, type CorpusFile } from './corpus';
import { evaluate } from './evaluation';

/** Fires on values above 50 and remembers every point it was shown. */
class Recorder implements Detector {
  readonly kind = 'recorder';
  readonly seen: Array<[number, number]> = [];

  learn(value: number, t: number): void {
    this.seen.push([value, t]);
  }

  score(value: number): number {
    return value > 50 ? 1 : 0;
  }

  step(value: number, t: number): number {
    const s = this.score(value);
    this.learn(value, t);
    return s;
  }

  snapshot(): DetectorSnapshot {
    return { kind: this.kind, version: 1, params: {}, state: {} };
  }
}

const STEP = 300_000;

/** 100 rows of value 1, with a spike of 99 on the first row of the one window. */
function file(name: string, t0: number, windowStart: number): CorpusFile {
  const timestamps = Float64Array.from({ length: 100 }, (_, i) => t0 + i * STEP);
  const values = Float64Array.from({ length: 100 }, (_, i) => (i === windowStart ? 99 : 1));
  return {
    name,
    category: name.slice(0, name.indexOf('/')),
    timestamps,
    timestampText: [],
    values,
    windows: [{ start: timestamps[windowStart], end: timestamps[windowStart + 9] }],
  };
}

describe('evaluate', () => {
  const files = [file('a/one.csv', Date.UTC(2014, 0, 1), 40), file('b/two.csv', Date.UTC(2015, 0, 1), 60)];
  const corpus: Corpus = {
    dir: '/unused',
    files,
    profiles: { standard: { tpWeight: 1, fnWeight: 1, fpWeight: 0.11 } },
    unlabelled: [],
    points: 200,
  };

  it('streams each file, in row order, through a detector of its own', () => {
    const made: Recorder[] = [];
    const { run } = evaluate(corpus, () => {
      made.push(new Recorder());
      return made[made.length - 1];
    });
    expect(made).toHaveLength(2);
    made.forEach((d, f) => {
      expect(d.seen).toEqual(Array.from(files[f].values, (v, i) => [v, files[f].timestamps[i]]));
    });
    expect(run.points).toBe(200);
    expect(run.scores[1][60]).toBe(1);
    expect(run.elapsedSeconds).toBeGreaterThanOrEqual(0);
  });

  it("scores the detector's output with the NAB rules", () => {
    const { profiles } = evaluate(corpus, () => new Recorder());
    expect(profiles.standard.normalized).toBeCloseTo(100, 10);
    expect(profiles.standard.threshold).toBe(1);
  });
});
