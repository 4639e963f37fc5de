import { DEFAULT_DETECTOR, describeDetectors } from '@seismo/detectors';

/** The detectors `--detector` takes, read from the registry at run time so the list is never stale. */
export function detectorsHelp(): string {
  const detectors = describeDetectors();
  const width = Math.max(...detectors.map(({ kind }) => kind.length));
  const rows = detectors.map(
    ({ kind, description }) =>
      `  ${kind.padEnd(width)}  ${description}${kind === DEFAULT_DETECTOR ? ' (default)' : ''}`,
  );
  return ['Detectors:', ...rows].join('\n');
}
