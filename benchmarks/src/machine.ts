import { execFileSync } from 'node:child_process';
import os from 'node:os';

/** Where a result was measured: a figure means little without the machine behind it. */
export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryBytes: number;
  /** 1, 5 and 15 minute load averages when the run started: a busy machine explains noisy figures. */
  readonly loadAverage: readonly number[];
  readonly node: string;
  readonly v8: string;
  readonly os: string;
  readonly date: string;
  readonly git: { readonly commit: string; readonly dirty: boolean } | null;
}

export function describeMachine(date = new Date()): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: date.toISOString(),
    git: gitState(),
  };
}

function gitState(): Machine['git'] {
  try {
    const commit = git(['rev-parse', 'HEAD']);
    // --no-optional-locks: status must not rewrite the index under people working in this tree.
    const dirty = git(['--no-optional-locks', 'status', '--porcelain', '--untracked-files=no']) !== '';
    return { commit, dirty };
  } catch {
    // Not a checkout (a tarball, a container image): the other fields still place the run.
    return null;
  }
}

function git(args: string[]): string {
  return execFileSync('git', args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 10_000,
  }).trim();
}
