import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Corpus, type CorpusFile } from './corpus';
import { readResults, resultPath, writeResults } from './results';

const STEP = 300_000;
const T0 = Date.UTC(2014, 3, 10);

function file(name: string, rows: number): CorpusFile {
  const timestamps = Float64Array.from({ length: rows }, (_, i) => T0 + i * STEP);
  return {
    name,
    category: name.slice(0, name.indexOf('/')),
    timestamps,
    timestampText: Array.from(timestamps, (t) => new Date(t).toISOString().slice(0, 19).replace('T', ' ')),
    values: Float64Array.from({ length: rows }, (_, i) => i * 1.5),
    windows: [],
  };
}

function corpus(files: CorpusFile[]): Corpus {
  return { dir: '/unused', files, profiles: {}, unlabelled: [], points: 0 };
}

describe('NAB result files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'nab-results-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes <category>/<detector>_<file>.csv in NAB's layout and reads the scores back", async () => {
    const files = [file('a/one.csv', 4), file('b/two.csv', 3)];
    const scores = [Float64Array.of(0, 0.25, 1, 0.125), Float64Array.of(0.5, 0, 0.75)];
    const out = path.join(dir, 'mydet');
    for (const [f, each] of files.entries()) await writeResults(out, 'mydet', each, scores[f]);

    expect(resultPath(out, 'mydet', files[0])).toBe(path.join(out, 'a', 'mydet_one.csv'));
    expect(await readFile(path.join(out, 'a', 'mydet_one.csv'), 'utf8')).toBe(
      'timestamp,value,anomaly_score\n' +
        '2014-04-10 00:00:00,0,0\n2014-04-10 00:05:00,1.5,0.25\n2014-04-10 00:10:00,3,1\n2014-04-10 00:15:00,4.5,0.125\n',
    );
    expect(await readResults(out, corpus(files))).toEqual(scores);
  });

  it("reads NAB's published layout, extra columns and all, whatever the directory is called", async () => {
    await mkdir(path.join(dir, 'elsewhere', 'a'), { recursive: true });
    await writeFile(
      path.join(dir, 'elsewhere', 'a', 'numenta_one.csv'),
      'timestamp,value,anomaly_score,raw_score,label\n2014-04-10 00:00:00,1,0.5,0.1,0\n2014-04-10 00:05:00,2,0.0,0.2,0\n',
    );
    expect(await readResults(path.join(dir, 'elsewhere'), corpus([file('a/one.csv', 2)]))).toEqual([
      Float64Array.of(0.5, 0),
    ]);
  });

  it('refuses results that do not line up with the data, naming file and line', async () => {
    await mkdir(path.join(dir, 'det', 'a'), { recursive: true });
    const target = path.join(dir, 'det', 'a', 'det_one.csv');
    await writeFile(target, 'timestamp,anomaly_score\n2014-04-10 00:00:00,0\n2014-04-10 00:10:00,0\n');
    await expect(readResults(path.join(dir, 'det'), corpus([file('a/one.csv', 2)]))).rejects.toThrow(
      `${target}:3: timestamp '2014-04-10 00:10:00' differs from row 1 of a/one.csv ('2014-04-10 00:05:00')`,
    );
    await writeFile(target, 'timestamp,anomaly_score\n2014-04-10 00:00:00,0\n');
    await expect(readResults(path.join(dir, 'det'), corpus([file('a/one.csv', 2)]))).rejects.toThrow(
      `${target}: 1 rows, but a/one.csv has 2`,
    );
    await writeFile(target, 'timestamp,anomaly_score\n2014-04-10 00:00:00,0\n2014-04-10 00:05:00,7\n');
    await expect(readResults(path.join(dir, 'det'), corpus([file('a/one.csv', 2)]))).rejects.toThrow(
      `${target}:3: anomaly_score '7' is not a number in [0, 1]`,
    );
  });

  it('says which file it expected when results are missing', async () => {
    await mkdir(path.join(dir, 'det', 'a'), { recursive: true });
    await expect(readResults(path.join(dir, 'det'), corpus([file('a/one.csv', 2)]))).rejects.toThrow(
      `no results for a/one.csv: expected ${path.join(dir, 'det', 'a', 'det_one.csv')}`,
    );
  });
});
