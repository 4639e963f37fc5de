import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { type CostMatrix, type LabelledSeries, type LabelWindow } from './scorer';

/**
 * A NAB-format corpus on disk: `data/<category>/<file>.csv` (header `timestamp,value`),
 * `labels/combined_windows.json` and, optionally, `config/profiles.json`. Loaded whole
 * (the largest NAB file has 22,695 rows) and checked the way NAB's labeler checks it,
 * so the scorer never meets a window it would have to guess about.
 */

export interface CorpusFile extends LabelledSeries {
  readonly category: string;
  /** Epoch milliseconds; NAB's timestamps carry no zone and are read as UTC. */
  readonly timestamps: Float64Array;
  /** The timestamps exactly as written, so result files repeat them byte for byte. */
  readonly timestampText: readonly string[];
  readonly values: Float64Array;
}

export interface Corpus {
  readonly dir: string;
  /** Sorted by name, which is also the order detectors run in. */
  readonly files: readonly CorpusFile[];
  readonly profiles: Readonly<Record<string, CostMatrix>>;
  /** Data files without an entry in the labels: NAB skips them with a warning, as we do. */
  readonly unlabelled: readonly string[];
  readonly points: number;
}

/** NAB's config/profiles.json, used when a corpus brings none. */
export const NAB_PROFILES: Readonly<Record<string, CostMatrix>> = {
  standard: { tpWeight: 1, fnWeight: 1, fpWeight: 0.11 },
  reward_low_FP_rate: { tpWeight: 1, fnWeight: 1, fpWeight: 0.22 },
  reward_low_FN_rate: { tpWeight: 1, fnWeight: 2, fpWeight: 0.11 },
};

const LABELS_FILE = path.join('labels', 'combined_windows.json');
const PROFILES_FILE = path.join('config', 'profiles.json');

export async function loadCorpus(dir: string): Promise<Corpus> {
  const root = path.resolve(dir);
  const dataDir = path.join(root, 'data');
  const names = await listDataFiles(dataDir, root);
  const labelsFile = path.join(root, LABELS_FILE);
  const labels = await readLabels(labelsFile);
  const profiles = await readProfiles(path.join(root, PROFILES_FILE));

  for (const name of Object.keys(labels)) {
    if (!names.includes(name)) {
      throw new Error(`${labelsFile}: labels name ${name}, but ${path.join(dataDir, name)} does not exist`);
    }
  }
  const files: CorpusFile[] = [];
  const unlabelled: string[] = [];
  for (const name of names) {
    const windows = labels[name];
    if (windows === undefined) {
      unlabelled.push(name);
      continue;
    }
    files.push(await readDataFile(dataDir, name, labelsFile, windows));
  }
  const points = files.reduce((sum, f) => sum + f.timestamps.length, 0);
  return { dir: root, files, profiles, unlabelled, points };
}

/**
 * A NAB timestamp, `2014-04-10 07:15:00` or `2014-04-10 07:15:00.000000`, as epoch
 * milliseconds in UTC; NaN when the text is not one.
 */
export function parseTimestamp(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(text);
  if (!m) return Number.NaN;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const t = Date.UTC(year, month - 1, day, hour, minute, second);
  const d = new Date(t);
  // Date.UTC rolls 2014-02-30 over to March; a real timestamp survives the round trip.
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    return Number.NaN;
  }
  return m[7] === undefined ? t : t + Number(`0.${m[7]}`) * 1000;
}

/** A CSV file as header plus rows, each row with the line it came from for error messages. */
export interface CsvTable {
  readonly path: string;
  readonly header: readonly string[];
  readonly rows: ReadonlyArray<{ readonly fields: readonly string[]; readonly line: number }>;
  /** Index of a header column; throws naming the file when it is missing. */
  column(name: string): number;
}

export async function readCsvTable(file: string): Promise<CsvTable> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    // csv-parse's types do not model `info: true`, which wraps each record with its line.
    records = parse(text, { info: true, skip_empty_lines: true }) as unknown as typeof records;
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`, { cause: e });
  }
  if (records.length === 0) throw new Error(`${file}: empty file, expected a header line`);
  const header = records[0].record;
  return {
    path: file,
    header,
    rows: records.slice(1).map((r) => ({ fields: r.record, line: r.info.lines })),
    column(name: string): number {
      const i = header.indexOf(name);
      if (i < 0) throw new Error(`${file}: no '${name}' column in the header (${header.join(',')})`);
      return i;
    },
  };
}

async function listDataFiles(dataDir: string, root: string): Promise<string[]> {
  let categories;
  try {
    categories = await readdir(dataDir, { withFileTypes: true });
  } catch {
    throw new Error(
      `NAB corpus not found: ${dataDir} does not exist (expected ${root} to hold data/ and labels/)`,
    );
  }
  const names: string[] = [];
  for (const category of categories) {
    if (!category.isDirectory() || category.name.startsWith('.')) continue;
    for (const file of await readdir(path.join(dataDir, category.name), { withFileTypes: true })) {
      if (file.isFile() && file.name.endsWith('.csv') && !file.name.startsWith('.')) {
        names.push(`${category.name}/${file.name}`);
      }
    }
  }
  if (names.length === 0) throw new Error(`${dataDir}: no <category>/<file>.csv data files`);
  return names.sort();
}

async function readDataFile(
  dataDir: string,
  name: string,
  labelsFile: string,
  windowText: readonly RawWindow[],
): Promise<CorpusFile> {
  const table = await readCsvTable(path.join(dataDir, name));
  const tCol = table.column('timestamp');
  const vCol = table.column('value');
  const n = table.rows.length;
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  const timestampText: string[] = new Array<string>(n);
  table.rows.forEach(({ fields, line }, i) => {
    const where = `${table.path}:${line}`;
    timestampText[i] = fields[tCol];
    timestamps[i] = parseTimestamp(fields[tCol]);
    if (Number.isNaN(timestamps[i]))
      throw new Error(`${where}: timestamp '${fields[tCol]}' is not YYYY-MM-DD HH:MM:SS`);
    // Number('') is 0: an empty field must not pass for a reading.
    values[i] = fields[vCol] === '' ? Number.NaN : Number(fields[vCol]);
    if (!Number.isFinite(values[i]))
      throw new Error(`${where}: value '${fields[vCol]}' is not a finite number`);
  });
  return {
    name,
    category: name.slice(0, name.indexOf('/')),
    timestamps,
    timestampText,
    values,
    windows: checkWindows(labelsFile, name, windowText, timestamps),
  };
}

type RawWindow = readonly [string, string];

/**
 * NAB's labeler refuses a window whose ends are not each the timestamp of exactly one
 * row, and windows that overlap; the sweeper then relies on both.
 */
function checkWindows(
  labelsFile: string,
  name: string,
  raw: readonly RawWindow[],
  timestamps: Float64Array,
): LabelWindow[] {
  const count = new Map<number, number>();
  for (const t of timestamps) count.set(t, (count.get(t) ?? 0) + 1);
  const windows: LabelWindow[] = [];
  raw.forEach(([startText, endText], k) => {
    const where = `${labelsFile}: ${name} window ${k} [${startText}, ${endText}]`;
    const start = parseTimestamp(startText);
    const end = parseTimestamp(endText);
    for (const [which, t, text] of [
      ['start', start, startText],
      ['end', end, endText],
    ] as const) {
      if (Number.isNaN(t)) throw new Error(`${where}: ${which} '${text}' is not a timestamp`);
      const rows = count.get(t) ?? 0;
      if (rows !== 1)
        throw new Error(
          `${where}: ${which} matches ${rows} rows of the data file; it must match exactly one`,
        );
    }
    if (end < start) throw new Error(`${where}: end is before start`);
    if (k > 0 && start <= windows[k - 1].end)
      throw new Error(`${where}: overlaps or precedes window ${k - 1}`);
    windows.push({ start, end });
  });
  return windows;
}

async function readLabels(file: string): Promise<Record<string, RawWindow[]>> {
  const json = await readJson(file);
  if (json === undefined) throw new Error(`NAB labels not found: ${file} does not exist`);
  if (!isObject(json))
    throw new Error(`${file}: expected an object mapping "<category>/<file>.csv" to windows`);
  const labels: Record<string, RawWindow[]> = {};
  for (const [name, windows] of Object.entries(json)) {
    if (!Array.isArray(windows)) throw new Error(`${file}: ${name} must map to a list of [start, end] pairs`);
    labels[name] = windows.map((w: unknown, k) => {
      if (!Array.isArray(w) || w.length !== 2 || typeof w[0] !== 'string' || typeof w[1] !== 'string') {
        throw new Error(`${file}: ${name} window ${k} must be a [start, end] pair of timestamp strings`);
      }
      return [w[0], w[1]] as const;
    });
  }
  return labels;
}

async function readProfiles(file: string): Promise<Readonly<Record<string, CostMatrix>>> {
  const json = await readJson(file);
  if (json === undefined) return NAB_PROFILES;
  if (!isObject(json)) throw new Error(`${file}: expected an object of profiles`);
  const profiles: Record<string, CostMatrix> = {};
  for (const [name, profile] of Object.entries(json)) {
    const matrix = isObject(profile) ? profile.CostMatrix : undefined;
    if (!isObject(matrix)) throw new Error(`${file}: ${name}.CostMatrix must be an object`);
    const weight = (field: string): number => {
      const v = matrix[field];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new Error(
          `${file}: ${name}.CostMatrix.${field} must be a number >= 0, got ${JSON.stringify(v)}`,
        );
      }
      return v;
    };
    profiles[name] = {
      tpWeight: weight('tpWeight'),
      fnWeight: weight('fnWeight'),
      fpWeight: weight('fpWeight'),
    };
  }
  if (Object.keys(profiles).length === 0) throw new Error(`${file}: no profiles`);
  return profiles;
}

/** The parsed file, or undefined when it does not exist. */
async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: invalid JSON: ${(e as Error).message}`, { cause: e });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
