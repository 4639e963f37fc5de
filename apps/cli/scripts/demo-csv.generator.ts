import { writeFileSync } from 'node:fs';

/**
 * Writes apps/cli/assets/demo.csv, the stream `seismo serve --demo` replays: six days of
 * a request rate sampled every 5 minutes, with a daily cycle, noise, and two anomalies a
 * person sees at a glance on a chart (a spike, then an outage-like dip). Seeded, so
 * running it again writes the same bytes and the committed file can be checked.
 *
 *   npm run build --silent && node dist/apps/cli/scripts/demo-csv.generator.js apps/cli/assets/demo.csv
 *
 * Two anomalies, not more, so the demo's chart stays legible; the ensemble's own tests
 * cover the other kinds (level shifts included).
 *
 * Six days, not more: the server takes points from 7 days back, and the demo lays the
 * stream out ending now.
 */

const STEP_MS = 5 * 60_000;
const DAY_MS = 86_400_000;
const DAYS = 6;
const START = Date.UTC(2026, 0, 5);
const ROWS = (DAYS * DAY_MS) / STEP_MS;
const PER_DAY = DAY_MS / STEP_MS;

/** mulberry32: a small, well-mixed 32-bit generator; Math.random cannot be seeded. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Anomalies late enough for the detectors to have learnt the daily cycle (they warm up on the first days). */
const SPIKE = Math.round(3.6 * PER_DAY);
const DIP_FROM = Math.round(5.3 * PER_DAY);
const DIP_TO = DIP_FROM + 4;

function value(i: number, random: () => number): number {
  const phase = (2 * Math.PI * (i % PER_DAY)) / PER_DAY;
  // Quiet at night, busiest in the afternoon.
  const cycle = 200 - 80 * Math.cos(phase - Math.PI / 6);
  // Box-Muller: Gaussian noise, as a real rate has.
  const noise = 6 * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  let v = cycle + noise;
  if (i === SPIKE) v += 260;
  if (i >= DIP_FROM && i < DIP_TO) v = 8 + 2 * random();
  return Math.max(0, v);
}

function timestamp(ms: number): string {
  // NAB's form, as most public series files write it.
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: node demo-csv.generator.js <out.csv>\n');
  process.exitCode = 2;
} else {
  const random = seeded(20261123);
  const lines = ['timestamp,value'];
  for (let i = 0; i < ROWS; i++)
    lines.push(`${timestamp(START + i * STEP_MS)},${value(i, random).toFixed(1)}`);
  writeFileSync(out, `${lines.join('\n')}\n`);
}
