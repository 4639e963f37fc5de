import { fork } from 'node:child_process';
import path from 'node:path';
import { UsageError } from './arguments';
import { type Measurement } from './result';

/**
 * Both ends of "one configuration, one fresh process": the runner forks a compiled
 * benchmark file with its arguments, and the child sends back one measurement over the
 * IPC channel. A fresh process per configuration keeps one detector's JIT feedback,
 * inline caches and heap out of the next one's figures.
 */

/** Runs `script` in a child process and resolves with what it measured. */
export function forkMeasurement(
  script: string,
  args: readonly string[],
  execArgv: readonly string[],
): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    // The child's stdout goes to our stderr: our stdout carries only JSON lines.
    const child = fork(script, [...args], {
      execArgv: [...execArgv],
      stdio: ['ignore', 2, 'inherit', 'ipc'],
    });
    let measurement: Measurement | undefined;
    child.on('message', (message) => {
      measurement = message as Measurement;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const name = path.basename(script);
      if (code === 0 && measurement) resolve(measurement);
      else if (code === 0) reject(new Error(`${name} exited without sending a measurement`));
      else reject(new Error(`${name} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`));
    });
  });
}

/**
 * The child's side: measures, then sends the result to the runner, or prints it as a
 * JSON line when started by hand. Exits non-zero on any error, with 2 for bad arguments.
 */
export function reportMeasurement(
  measure: (argv: readonly string[]) => Measurement | Promise<Measurement>,
): void {
  const send = (measurement: Measurement): Promise<void> =>
    new Promise((resolve, reject) => {
      if (!process.send) {
        process.stdout.write(`${JSON.stringify(measurement)}\n`);
        resolve();
        return;
      }
      process.send(measurement, (error: Error | null) => (error ? reject(error) : resolve()));
    });
  Promise.resolve()
    .then(() => measure(process.argv.slice(2)))
    .then(send)
    .then(() => process.disconnect?.())
    .catch((error: unknown) => {
      const usage = error instanceof UsageError;
      const text =
        error instanceof Error ? (usage ? error.message : (error.stack ?? error.message)) : String(error);
      process.stderr.write(`${text}\n`);
      process.exitCode = usage ? 2 : 1;
      process.disconnect?.();
    });
}
