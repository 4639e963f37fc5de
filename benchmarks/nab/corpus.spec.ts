import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadCorpus, NAB_PROFILES, parseTimestamp } from './corpus';

/** Writes a small NAB-format corpus: files maps `<category>/<file>.csv` to its CSV text. */
async function writeCorpus(
  root: string,
  files: Record<string, string>,
  labels: unknown,
  profiles?: unknown,
): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.join(root, 'data', path.dirname(name)), { recursive: true });
    await writeFile(path.join(root, 'data', name), text);
  }
  await mkdir(path.join(root, 'labels'), { recursive: true });
  await writeFile(path.join(root, 'labels', 'combined_windows.json'), JSON.stringify(labels));
  if (profiles !== undefined) {
    await mkdir(path.join(root, 'config'), { recursive: true });
    await writeFile(path.join(root, 'config', 'profiles.json'), JSON.stringify(profiles));
  }
}

function csv(rows: number, start = '2014-04-10', valueAt: (i: number) => string = (i) => String(i)): string {
  const t0 = Date.parse(`${start}T00:00:00Z`);
  const lines = ['timestamp,value'];
  for (let i = 0; i < rows; i++) {
    lines.push(`${new Date(t0 + i * 300_000).toISOString().slice(0, 19).replace('T', ' ')},${valueAt(i)}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('parseTimestamp', () => {
  it('reads NAB timestamps as UTC, with or without microseconds', () => {
    expect(parseTimestamp('2014-04-10 07:15:00.000000')).toBe(Date.UTC(2014, 3, 10, 7, 15));
    expect(parseTimestamp('2014-04-10 07:15:00')).toBe(Date.UTC(2014, 3, 10, 7, 15));
    expect(parseTimestamp('2014-03-09 03:00:00')).toBe(Date.UTC(2014, 2, 9, 3));
  });

  it('returns NaN for text that is not a real timestamp', () => {
    expect(parseTimestamp('2014-02-30 00:00:00')).toBeNaN();
    expect(parseTimestamp('2014-04-10 24:00:00')).toBeNaN();
    expect(parseTimestamp('10/04/2014 07:15')).toBeNaN();
  });
});

describe('loadCorpus', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'nab-corpus-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('loads files in name order with UTC times, windows and default profiles', async () => {
    await writeCorpus(
      root,
      { 'b/two.csv': csv(20), 'a/one.csv': csv(10), 'a/unlabelled.csv': csv(5) },
      {
        'a/one.csv': [],
        'b/two.csv': [['2014-04-10 00:25:00.000000', '2014-04-10 00:40:00.000000']],
      },
    );
    const corpus = await loadCorpus(root);
    expect(corpus.files.map((f) => [f.name, f.category, f.timestamps.length])).toEqual([
      ['a/one.csv', 'a', 10],
      ['b/two.csv', 'b', 20],
    ]);
    const two = corpus.files[1];
    expect(two.timestamps[5]).toBe(Date.UTC(2014, 3, 10, 0, 25));
    expect(two.timestampText[5]).toBe('2014-04-10 00:25:00');
    expect(two.values[19]).toBe(19);
    expect(two.windows).toEqual([{ start: Date.UTC(2014, 3, 10, 0, 25), end: Date.UTC(2014, 3, 10, 0, 40) }]);
    expect(corpus.unlabelled).toEqual(['a/unlabelled.csv']);
    expect(corpus.points).toBe(30);
    expect(corpus.profiles).toBe(NAB_PROFILES);
  });

  it('reads cost profiles from config/profiles.json', async () => {
    await writeCorpus(
      root,
      { 'a/one.csv': csv(10) },
      { 'a/one.csv': [] },
      {
        strict: { CostMatrix: { tpWeight: 1, fnWeight: 3, fpWeight: 0.5, tnWeight: 1 } },
      },
    );
    expect((await loadCorpus(root)).profiles).toEqual({
      strict: { tpWeight: 1, fnWeight: 3, fpWeight: 0.5 },
    });
  });

  it('names the missing directory', async () => {
    await expect(loadCorpus(path.join(root, 'nope'))).rejects.toThrow(
      `${path.join(root, 'nope', 'data')} does not exist`,
    );
  });

  it('names the file and line of a bad value', async () => {
    await writeCorpus(
      root,
      { 'a/one.csv': csv(10, undefined, (i) => (i === 3 ? 'n/a' : '1')) },
      { 'a/one.csv': [] },
    );
    await expect(loadCorpus(root)).rejects.toThrow(/a\/one\.csv:5: value 'n\/a' is not a finite number/);
  });

  it('refuses a window end that is not exactly one row of the file, naming it', async () => {
    await writeCorpus(
      root,
      { 'a/one.csv': csv(10) },
      { 'a/one.csv': [['2014-04-10 00:05:00.000000', '2014-04-10 00:07:00.000000']] },
    );
    await expect(loadCorpus(root)).rejects.toThrow(
      /combined_windows\.json: a\/one\.csv window 0 .*end matches 0 rows of the data file/,
    );
  });

  it('refuses labels for a data file that does not exist', async () => {
    await writeCorpus(root, { 'a/one.csv': csv(10) }, { 'a/one.csv': [], 'a/ghost.csv': [] });
    await expect(loadCorpus(root)).rejects.toThrow(
      /labels name a\/ghost\.csv, but .*ghost\.csv does not exist/,
    );
  });

  it('names the profile field that is wrong', async () => {
    await writeCorpus(
      root,
      { 'a/one.csv': csv(10) },
      { 'a/one.csv': [] },
      { p: { CostMatrix: { tpWeight: 1 } } },
    );
    await expect(loadCorpus(root)).rejects.toThrow(
      /profiles\.json: p\.CostMatrix\.fnWeight must be a number/,
    );
  });
});
