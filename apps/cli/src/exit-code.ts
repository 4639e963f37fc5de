import { ConfigError } from '@seismo/config';
import { constants } from 'node:os';
import { CommanderError } from 'commander';
import { DetectorError } from '@seismo/detectors';
import { SeriesCsvError } from '@seismo/series-csv';
import { InterruptedError } from './interrupted.error';

export enum ExitCode {
  OK = 0,
  /** Input or output failed, or a bug: rerunning the same command may not help. */
  FAILURE = 1,
  /** The command line or the input file is wrong; the message says where. */
  USAGE = 2,
  /** `seismo billing reconcile` found usage and billing apart (it printed where). */
  DIFFERENCES = 3,
}

export function exitCodeFor(error: unknown): number {
  // Commander exits 0 after --help and --version, and 1 for usage errors, which here are 2.
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
  if (error instanceof SeriesCsvError || error instanceof DetectorError || error instanceof ConfigError) {
    return ExitCode.USAGE;
  }
  if (error instanceof InterruptedError) return 128 + constants.signals[error.signal];
  if (error instanceof Error && 'exitCode' in error && error.exitCode === ExitCode.DIFFERENCES) {
    return ExitCode.DIFFERENCES;
  }
  return ExitCode.FAILURE;
}
