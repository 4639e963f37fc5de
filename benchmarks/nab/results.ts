import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Corpus, type CorpusFile, type CsvTable, parseTimestamp, readCsvTable } from './corpus';

/**
 * NAB's result files: one CSV per data file, `<dir>/<category>/<detector>_<file>.csv`
 * with at least `timestamp,anomaly_score`, one row per data row. Seismo writes
 * `timestamp,value,anomaly_score`; it reads NAB's published results (which carry more
 * columns) the same way, so both can be scored by one scorer.
 */

export function resultPath(dir: string, detector: string, file: CorpusFile): string {
  return path.join(dir, file.category, `${detector}_${path.basename(file.name)}`);
}

export async function writeResults(
  dir: string,
  detector: string,
  file: CorpusFile,
  scores: ArrayLike<number>,
): Promise<string> {
  const target = resultPath(dir, detector, file);
  const lines = ['timestamp,value,anomaly_score'];
  for (let i = 0; i < file.values.length; i++) {
    // Timestamps match parseTimestamp's pattern and numbers print without commas: no quoting needed.
    lines.push(`${file.timestampText[i]},${file.values[i]},${scores[i]}`);
  }
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, `${lines.join('\n')}\n`);
  return target;
}

/**
 * The anomaly scores of every corpus file, read from `dir`. The detector's name is the
 * directory's own name (NAB's `results/<detector>/`); failing that, the one file in the
 * category folder ending in `_<file>.csv` is taken.
 */
export async function readResults(dir: string, corpus: Corpus): Promise<Float64Array[]> {
  const root = path.resolve(dir);
  const detector = path.basename(root);
  const out: Float64Array[] = [];
  for (const file of corpus.files) {
    out.push(readScores(await readCsvTable(await findResult(root, detector, file)), file));
  }
  return out;
}

async function findResult(root: string, detector: string, file: CorpusFile): Promise<string> {
  const expected = resultPath(root, detector, file);
  const folder = path.dirname(expected);
  let entries: string[];
  try {
    entries = await readdir(folder);
  } catch {
    throw new Error(`no results for ${file.name}: ${folder} does not exist`);
  }
  if (entries.includes(path.basename(expected))) return expected;
  const suffix = `_${path.basename(file.name)}`;
  const matches = entries.filter((e) => e.endsWith(suffix));
  if (matches.length === 1) return path.join(folder, matches[0]);
  if (matches.length === 0) throw new Error(`no results for ${file.name}: expected ${expected}`);
  throw new Error(`results for ${file.name} are ambiguous in ${folder}: ${matches.join(', ')}`);
}

function readScores(table: CsvTable, file: CorpusFile): Float64Array {
  const sCol = table.column('anomaly_score');
  const tCol = table.header.indexOf('timestamp');
  if (table.rows.length !== file.timestamps.length) {
    throw new Error(
      `${table.path}: ${table.rows.length} rows, but ${file.name} has ${file.timestamps.length}`,
    );
  }
  const scores = new Float64Array(table.rows.length);
  table.rows.forEach(({ fields, line }, i) => {
    const where = `${table.path}:${line}`;
    if (tCol >= 0 && parseTimestamp(fields[tCol]) !== file.timestamps[i]) {
      throw new Error(
        `${where}: timestamp '${fields[tCol]}' differs from row ${i} of ${file.name} ('${file.timestampText[i]}')`,
      );
    }
    const text = fields[sCol];
    scores[i] = text === '' ? Number.NaN : Number(text);
    if (!(scores[i] >= 0 && scores[i] <= 1))
      throw new Error(`${where}: anomaly_score '${text}' is not a number in [0, 1]`);
  });
  return scores;
}
