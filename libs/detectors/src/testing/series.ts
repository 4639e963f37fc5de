/**
 * Deterministic synthetic series for detector tests: a seeded generator, so a failing
 * test fails the same way every time, and shapes that exercise every code path
 * (noise, trend, daily cycle, spikes, a level shift, a flat stretch, irregular and
 * repeated timestamps, a gap).
 */
export interface TestPoint {
  t: number;
  value: number;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

const STEP = 5 * 60_000;
const DAY = 86_400_000;
const START = Date.UTC(2024, 0, 1);

export function mixedSeries(length: number, seed = 1): TestPoint[] {
  const rand = mulberry32(seed);
  const out: TestPoint[] = [];
  let t = START;
  for (let i = 0; i < length; i++) {
    // The cycle follows the clock, as real daily cycles do, so gaps do not shift it.
    const daily = 10 * Math.sin((2 * Math.PI * (t - START)) / DAY);
    let value = 100 + 0.002 * i + daily + gaussian(rand);
    if (i % 997 === 500) value += 40; // spike
    if (i % 1499 === 700) value -= 35; // dip
    if (i > length * 0.6) value += 15; // level shift
    if (i > length * 0.3 && i < length * 0.3 + 50) value = 77; // stuck sensor
    out.push({ t, value });
    if (i % 211 === 17) continue; // repeated timestamp
    t += i % 743 === 100 ? STEP * 40 : STEP + Math.round((rand() - 0.5) * 20_000); // a gap, and jitter
  }
  return out;
}

export function constantSeries(length: number, value = 5): TestPoint[] {
  return Array.from({ length }, (_, i) => ({ t: START + i * STEP, value }));
}

export function extremeSeries(): TestPoint[] {
  const values = [0, 1e300, -1e300, 1e-300, 0, 0, 5e15, -5e15, 1, 1, 1, 1e12, -3];
  const out: TestPoint[] = [];
  for (let i = 0; i < 400; i++)
    out.push({ t: START + i * STEP, value: values[i % values.length] * (1 + (i % 3)) });
  return out;
}
