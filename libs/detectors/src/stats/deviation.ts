/**
 * The smallest spread a detector divides by. A series that has been perfectly flat has
 * zero variance, and dividing by it would make the first wiggle infinitely anomalous;
 * the floor is relative to the level so it means the same for bytes and for percent, and
 * small (a millionth of the level) so a quiet metric far from zero, 300 ± 0.1, is still
 * judged against its own noise.
 */
export function spreadFloor(level: number): number {
  return 1e-6 * Math.abs(level) + 1e-9;
}

/**
 * Maps a deviation in units of spread to [0, 1): 1 - e^(-z/3). Roughly 0.63 at three
 * spreads, 0.86 at six, and it keeps rising past that instead of saturating, so the
 * ensemble can still rank a twelve-sigma spike above a six-sigma one.
 */
export function deviationScore(deviation: number, spread: number, level: number): number {
  const z = Math.abs(deviation) / Math.max(spread, spreadFloor(level));
  return 1 - Math.exp(-z / 3);
}
