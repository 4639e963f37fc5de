/**
 * Plain-text tables for people reading a terminal: the runner's summary and the compare
 * report. Machines read the JSON lines instead, so nothing here needs to parse back.
 */

export type Align = 'left' | 'right';

export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[],
): string {
  const widths = header.map((title, c) =>
    Math.max(title.length, ...rows.map((row) => (row[c] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    widths
      .map((width, c) => {
        const cell = cells[c] ?? '';
        return align[c] === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const PREFIXES: ReadonlyArray<[number, string]> = [
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** Three significant digits, with k, M or G from ten thousand up: 31.4M, 12.5k, 212, 0.0312. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1e4) {
    for (const [scale, prefix] of PREFIXES) {
      if (magnitude >= scale) return `${significant(value / scale)}${prefix}`;
    }
  }
  return significant(value);
}

/** A spread as a share of its mean: '±1.2%'. */
export function formatSpread(stddev: number | null, mean: number): string {
  if (stddev === null || mean === 0) return '';
  return `±${((100 * stddev) / Math.abs(mean)).toFixed(1)}%`;
}

function significant(value: number): string {
  if (value === 0) return '0';
  // Integers of up to four digits print whole: 1500 bytes, not 1.50k.
  if (Number.isInteger(value) && Math.abs(value) < 1e4) return String(value);
  return String(Number(value.toPrecision(3)));
}
