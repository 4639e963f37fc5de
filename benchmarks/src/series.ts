import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

/**
 * The data a benchmark replays: timestamps (epoch ms, non-decreasing) and values, in
 * typed arrays so that reading a point in the timed loop costs two loads, not an object.
 */
export interface Series {
  readonly t: Float64Array;
  readonly values: Float64Array;
  /** What the data is, as recorded in the results' params: 'synthetic' or the CSV's path. */
  readonly source: string;
}

export const SYNTHETIC_LENGTH = 1_000_000;
const SYNTHETIC_SEED = 1;
const STEP_MS = 60_000;
const POINTS_PER_DAY = 1440;
const START_MS = Date.UTC(2024, 0, 1);

/**
 * A metric as operations teams push it, scraped every minute: a daily cycle, a slow
 * trend, Gaussian noise, rare spikes, and level shifts that persist (a deploy, a
 * migration). Seeded, so every run and every machine replays the same points.
 */
export function syntheticSeries(length = SYNTHETIC_LENGTH, seed = SYNTHETIC_SEED): Series {
  const rand = mulberry32(seed);
  const t = new Float64Array(length);
  const values = new Float64Array(length);
  let level = 500;
  for (let i = 0; i < length; i++) {
    if (rand() < 1e-4) level += sign(rand()) * (20 + 40 * rand());
    let value = level + 0.0001 * i + 80 * Math.sin((2 * Math.PI * i) / POINTS_PER_DAY) + 5 * gaussian(rand);
    if (rand() < 5e-4) value += sign(rand()) * (30 + 70 * rand());
    values[i] = value;
    // Scrapes jitter by up to a second either way; the order never changes.
    t[i] = START_MS + i * STEP_MS + Math.round((rand() - 0.5) * 2000);
  }
  return { t, values, source: 'synthetic' };
}

/** A CSV with header `timestamp,value` (NAB's format), timestamps as ISO 8601 or epoch ms. */
export function readCsvSeries(path: string): Series {
  return parseCsvSeries(readFileSync(path, 'utf8'), path);
}

export function parseCsvSeries(text: string, source: string): Series {
  let rows: Record<string, string>[];
  try {
    rows = parse(text, { columns: true, skip_empty_lines: true, trim: true });
  } catch (error) {
    throw new Error(`${source}: ${(error as Error).message}`, { cause: error });
  }
  if (rows.length < 2) throw new Error(`${source}: needs at least 2 rows, got ${rows.length}`);
  const t = new Float64Array(rows.length);
  const values = new Float64Array(rows.length);
  rows.forEach((row, i) => {
    // Line numbers as an editor shows them: the header is line 1.
    const where = `${source}:${i + 2}`;
    if (row.timestamp === undefined || row.value === undefined) {
      throw new Error(`${where}: the header must name the columns 'timestamp' and 'value'`);
    }
    const ms = parseTimestamp(row.timestamp);
    const value = row.value === '' ? NaN : Number(row.value);
    if (!Number.isFinite(ms)) throw new Error(`${where}: timestamp '${row.timestamp}' is not a date`);
    if (!Number.isFinite(value)) throw new Error(`${where}: value '${row.value}' is not a finite number`);
    if (i > 0 && ms < t[i - 1]) throw new Error(`${where}: timestamp goes back in time`);
    t[i] = ms;
    values[i] = value;
  });
  return { t, values, source };
}

function parseTimestamp(raw: string): number {
  if (/^\d+$/.test(raw)) return Number(raw);
  // NAB writes '2014-04-01 00:00:00' with no zone: read it as UTC, not as this machine's
  // local time. A date alone is UTC already, by the ECMAScript date format.
  const iso = raw.replace(' ', 'T');
  const utc = !iso.includes('T') || /(?:Z|[+-]\d\d:?\d\d)$/i.test(iso);
  return Date.parse(utc ? iso : `${iso}Z`);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function sign(u: number): number {
  return u < 0.5 ? -1 : 1;
}
