import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createDetector, DEFAULT_DETECTOR, describeDetectors, detectorKinds } from '@seismo/detectors';
import { parseTimestamp, TIMESTAMP_FORMATS } from '@seismo/series-csv';
import { version } from '../../../package.json';

/** The built command line, as the package's bin runs it. */
const SEISMO = resolve(__dirname, '../../../bin/seismo.js');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `seismo ...args` in `cwd`, feeding it `stdin` (none: standard input is closed at once). */
function seismo(cwd: string, args: string[], stdin = ''): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [SEISMO, ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

let base: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'seismo-score-e2e-'));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

/** A fresh directory per test, so one can check which files a run leaves behind. */
function workdir(): Promise<string> {
  return mkdtemp(join(base, 'run-'));
}

/** A NAB-style series: five-minute steps, a daily-ish wave, values written in assorted ways, a spike. */
function nabSeries(rows: number): string {
  const lines = ['timestamp,value'];
  for (let i = 0; i < rows; i++) {
    const t = new Date(Date.UTC(2014, 6, 1) + i * 300_000).toISOString().slice(0, 19).replace('T', ' ');
    const value =
      40 + 8 * Math.sin(i / 24) + ((i * 7919) % 13) / 13 + (i === Math.floor(rows * 0.8) ? 60 : 0);
    lines.push(`${t},${i % 3 === 0 ? value.toFixed(2) : i % 3 === 1 ? value.toFixed(4) : Math.round(value)}`);
  }
  return lines.join('\n') + '\n';
}

/** What the library scores for `csv`, one row at a time in file order: what the CLI must print. */
function libraryScores(csv: string, kind: string): number[] {
  const detector = createDetector(kind);
  return dataRows(csv).map((row) => {
    const comma = row.lastIndexOf(',');
    return detector.step(Number(row.slice(comma + 1)), parseTimestamp(row.slice(0, comma)));
  });
}

function dataRows(csv: string): string[] {
  return csv.split('\n').slice(1, csv.endsWith('\n') ? -1 : undefined);
}

/** Checks `output` is `input` scored: same rows and text, one score each, in [0, 1], printed as promised. */
function expectScored(output: string, input: string): number[] {
  const [header, ...rows] = output.split('\n');
  expect(header).toBe('timestamp,value,anomaly_score');
  expect(rows.pop()).toBe(''); // the output ends with a line break
  expect(rows).toHaveLength(dataRows(input).length);
  return rows.map((row, i) => {
    const comma = row.lastIndexOf(',');
    expect(row.slice(0, comma)).toBe(dataRows(input)[i]);
    const text = row.slice(comma + 1);
    expect(text).toMatch(/^(0|1|0\.[0-9]{0,5}[1-9])$/);
    return Number(text);
  });
}

describe('seismo score', () => {
  const input = nabSeries(1500);

  it('writes one scored row per input row, each score computed online as the library computes it', async () => {
    const dir = await workdir();
    await writeFile(join(dir, 'in.csv'), input);
    const run = await seismo(dir, ['score', 'in.csv', '-o', 'out.csv']);
    expect(run).toEqual({ status: 0, stdout: '', stderr: '' }); // no progress bar when stderr is not a terminal
    const scores = expectScored(await readFile(join(dir, 'out.csv'), 'utf8'), input);
    const expected = libraryScores(input, DEFAULT_DETECTOR);
    scores.forEach((score, i) => expect(Math.abs(score - expected[i])).toBeLessThanOrEqual(5e-7 + 1e-12));
    expect(Math.max(...scores)).toBeGreaterThan(0);
    expect(await readdir(dir)).toEqual(['in.csv', 'out.csv']);
  });

  it.each(detectorKinds())('scores with --detector %s as the library does', async (kind) => {
    const small = nabSeries(400);
    const dir = await workdir();
    await writeFile(join(dir, 'in.csv'), small);
    const run = await seismo(dir, ['score', 'in.csv', '--detector', kind]);
    expect(run.status).toBe(0);
    const scores = expectScored(run.stdout, small);
    const expected = libraryScores(small, kind);
    scores.forEach((score, i) => expect(Math.abs(score - expected[i])).toBeLessThanOrEqual(5e-7 + 1e-12));
  });

  it('reads standard input for - and writes standard output without -o, byte for byte as with files', async () => {
    const dir = await workdir();
    await writeFile(join(dir, 'in.csv'), input);
    const [piped, filed] = await Promise.all([
      seismo(dir, ['score', '-'], input),
      seismo(dir, ['score', 'in.csv', '-o', 'out.csv']),
    ]);
    expect(piped.status).toBe(0);
    expect(filed.status).toBe(0);
    expect(piped.stdout).toBe(await readFile(join(dir, 'out.csv'), 'utf8'));
  });

  it('keeps every timestamp format and irregular, repeated and earlier timestamps, dropping no row', async () => {
    const mixed =
      'timestamp,value\r\n' +
      '2014-07-01 00:00:00,1\r\n' +
      '2014-07-01T00:05:00Z,2\r\n' +
      '2014-07-01T02:05:00.250+02:00,3\r\n' +
      '2014-07-01T00:05:00.123456Z,4\r\n' +
      '"1404173400",5\r\n' +
      '1404173400000,6\r\n' +
      '2014-06-30 23:00:00,7\r\n' +
      '2014-07-02,8\r\n';
    const run = await seismo(await workdir(), ['score', '-'], mixed);
    expect(run.status).toBe(0);
    const rows = run.stdout.split('\n').slice(1, -1);
    expect(rows.map((row) => row.slice(0, row.lastIndexOf(',')))).toEqual(
      dataRows(mixed.replaceAll('\r', '')),
    );
  });

  it('writes the header alone for a file with no rows', async () => {
    const run = await seismo(await workdir(), ['score', '-'], 'timestamp,value\n');
    expect(run).toEqual({ status: 0, stdout: 'timestamp,value,anomaly_score\n', stderr: '' });
  });

  describe('stops with exit status 2, naming the file, line and field', () => {
    const rows = input.split('\n');
    it.each([
      [
        'a value that is not a number',
        3,
        '2014-07-01 00:10:00,abc',
        'bad.csv:3: value "abc" is not a number',
      ],
      ['NaN', 5, '2014-07-01 00:20:00,NaN', 'bad.csv:5: value "NaN" is not a number'],
      [
        'Infinity',
        4,
        '2014-07-01 00:15:00,Infinity',
        'bad.csv:4: value must be a finite number, got Infinity',
      ],
      ['a missing value', 6, '2014-07-01 00:25:00', 'bad.csv:6: value is missing: the row has one field'],
      ['an empty value', 6, '2014-07-01 00:25:00,', 'bad.csv:6: value is empty'],
      [
        'a bad timestamp',
        7,
        '2014-02-30 00:00:00,5',
        `bad.csv:7: timestamp "2014-02-30 00:00:00" is not in a known format: ${TIMESTAMP_FORMATS}`,
      ],
      [
        'a third field',
        9,
        '2014-07-01 00:10:00,1,2',
        'bad.csv:9: expected 2 fields (timestamp,value), found 3',
      ],
    ])('%s', async (_name, line, row, message) => {
      const dir = await workdir();
      await writeFile(
        join(dir, 'bad.csv'),
        [...rows.slice(0, line - 1), row, ...rows.slice(line)].join('\n'),
      );
      await writeFile(join(dir, 'out.csv'), 'an earlier result\n');
      const run = await seismo(dir, ['score', 'bad.csv', '-o', 'out.csv']);
      expect(run).toEqual({ status: 2, stdout: '', stderr: `seismo: ${message}\n` });
      expect(await readFile(join(dir, 'out.csv'), 'utf8')).toBe('an earlier result\n'); // untouched, no half file
      expect((await readdir(dir)).sort()).toEqual(['bad.csv', 'out.csv']); // no temporary file left
    });

    it('far into a large file, once output has been written, leaving no half file', async () => {
      const dir = await workdir();
      const large = nabSeries(30_000).split('\n'); // about 1 MB: several read chunks are scored first
      large[29_000] = '2014-07-01 00:10:00,oops';
      await writeFile(join(dir, 'big.csv'), large.join('\n'));
      await writeFile(join(dir, 'out.csv'), 'an earlier result\n');
      const run = await seismo(dir, ['score', 'big.csv', '-o', 'out.csv', '--detector', 'ewma']);
      expect(run).toEqual({
        status: 2,
        stdout: '',
        stderr: 'seismo: big.csv:29001: value "oops" is not a number\n',
      });
      expect(await readFile(join(dir, 'out.csv'), 'utf8')).toBe('an earlier result\n');
      expect((await readdir(dir)).sort()).toEqual(['big.csv', 'out.csv']);
    });

    it.each([
      ['a missing header', '2014-07-01 00:00:00,1\n', 'in.csv:1: the header "timestamp,value" is missing'],
      [
        'a wrong header',
        'time,value\n',
        'in.csv:1: the header must be "timestamp,value", found "time,value"',
      ],
      ['an empty file', '', 'in.csv:1: the input is empty; expected the header "timestamp,value"'],
    ])('%s', async (_name, content, message) => {
      const dir = await workdir();
      await writeFile(join(dir, 'in.csv'), content);
      const run = await seismo(dir, ['score', 'in.csv']);
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`seismo: ${message}`);
    });

    it('names standard input as <stdin>', async () => {
      const run = await seismo(await workdir(), ['score', '-'], 'timestamp,value\n2014-07-01,x\n');
      expect(run.status).toBe(2);
      expect(run.stderr).toBe('seismo: <stdin>:2: value "x" is not a number\n');
    });

    it('an unknown --detector, with the registry’s list of the known ones', async () => {
      const dir = await workdir();
      await writeFile(join(dir, 'in.csv'), input);
      const run = await seismo(dir, ['score', 'in.csv', '--detector', 'nope', '-o', 'out.csv']);
      expect(run).toEqual({
        status: 2,
        stdout: '',
        stderr: `seismo: unknown detector 'nope'; known: ${detectorKinds().join(', ')}\n`,
      });
      expect(await readdir(dir)).toEqual(['in.csv']);
    });

    it.each([
      ['no input', ['score'], "missing required argument 'in.csv'"],
      ['an unknown option', ['score', 'in.csv', '--fast'], "unknown option '--fast'"],
      ['an unknown command', ['scour', 'in.csv'], "unknown command 'scour'"],
      ['no command', [], 'Usage: seismo'],
    ])('a usage error: %s', async (_name, args, message) => {
      const run = await seismo(await workdir(), args);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain(message);
    });
  });

  it('stops with exit status 1 when the input cannot be read', async () => {
    const run = await seismo(await workdir(), ['score', 'missing.csv']);
    expect(run).toEqual({
      status: 1,
      stdout: '',
      stderr: 'seismo: cannot read missing.csv: ENOENT: no such file or directory\n',
    });
  });

  it('leaves no file behind when stopped by a signal mid-way', async () => {
    const dir = await workdir();
    const child = spawn(process.execPath, [SEISMO, 'score', '-', '-o', 'out.csv'], { cwd: dir });
    const closed = new Promise<number | null>((done) => child.on('close', done));
    child.stdin.write(input); // and standard input stays open: the run is mid-way until killed
    while ((await readdir(dir)).length === 0) await new Promise((wait) => setTimeout(wait, 20));
    expect(await readdir(dir)).toEqual([expect.stringMatching(/^\.out\.csv\.[0-9a-f]+\.tmp$/)]);
    child.kill('SIGTERM');
    expect(await closed).toBe(128 + 15);
    expect(await readdir(dir)).toEqual([]);
  });

  it('lists every detector and its description in --help', async () => {
    for (const args of [['--help'], ['score', '--help']]) {
      const run = await seismo(await workdir(), args);
      expect(run.status).toBe(0);
      for (const { kind, description } of describeDetectors()) {
        expect(run.stdout).toMatch(new RegExp(`^ +${kind} +${escape(description)}`, 'm'));
      }
    }
  });

  it('prints the package version for --version', async () => {
    const run = await seismo(await workdir(), ['--version']);
    expect(run).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
