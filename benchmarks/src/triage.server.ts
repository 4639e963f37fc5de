import { loadConfig } from '@seismo/config';
import { type ChildProcess, fork } from 'node:child_process';
import { serve } from '../../apps/api/src/serve';

/**
 * The server side of the triage benchmark (triage.bench.ts): `serve()` in a process of its
 * own, which the benchmark kills once it has measured. A graceful stop would first let
 * every anomaly still waiting for its triage finish (its reads, a skip, a write: over a
 * minute with the backlog the benchmark builds), and exiting while embedded ClickHouse is
 * still at work can crash the process on the way out (SIGSEGV). Killing a process that
 * holds nothing worth keeping is fast and safe, and the benchmark's own process exits
 * cleanly with its measurement.
 *
 * Over the IPC channel the parent sends `{ env }` (the SEISMO_* variables, the admin token
 * among them: not on a command line); this process answers `{ ready: url }`, or
 * `{ failed: message }` and exits; then it answers each `{ ask: 'triaged' }` with
 * `{ triaged }`, the anomalies its alerting path has triaged (a verdict or a skip).
 */

type ToServer = { readonly env: Readonly<Record<string, string>> } | { readonly ask: 'triaged' };
type FromServer = { readonly ready: string } | { readonly failed: string } | { readonly triaged: number };

/** The parent's handle on the server process. */
export class TriageServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  /** Forks the server with these SEISMO_* variables and resolves once it listens. */
  static start(env: Readonly<Record<string, string>>): Promise<TriageServerProcess> {
    // Its log goes to our stderr, as ours does to the runner's.
    const child = fork(__filename, [], { stdio: ['ignore', 2, 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null): void =>
        reject(new Error(`the triage server exited before it listened (${signal ?? `code ${code}`})`));
      child.once('exit', onExit);
      child.once('message', (message: FromServer) => {
        child.off('exit', onExit);
        if ('ready' in message) resolve(new TriageServerProcess(child, message.ready));
        else {
          child.kill('SIGKILL');
          reject(new Error(`the triage server did not start: ${'failed' in message ? message.failed : '?'}`));
        }
      });
      child.send({ env } satisfies ToServer);
    });
  }

  /** Anomalies the server's alerting path has triaged so far. */
  triaged(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onExit = (): void => reject(new Error('the triage server exited'));
      this.child.once('exit', onExit);
      this.child.once('message', (message: FromServer) => {
        this.child.off('exit', onExit);
        if ('triaged' in message) resolve(message.triaged);
        else reject(new Error(`the triage server answered ${JSON.stringify(message)}`));
      });
      this.child.send({ ask: 'triaged' } satisfies ToServer);
    });
  }

  /** Kills the server and resolves once it is gone (its files are then free to remove). */
  kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }
}

function runServer(): void {
  let server: Awaited<ReturnType<typeof serve>> | undefined;
  const reply = (message: FromServer): void => {
    process.send?.(message);
  };
  process.on('message', (message: ToServer) => {
    if ('env' in message) {
      serve(loadConfig({ ...message.env }))
        .then((started) => {
          server = started;
          reply({ ready: started.url });
        })
        .catch((error: unknown) => {
          reply({ failed: error instanceof Error ? error.message : String(error) });
          process.exitCode = 1;
          process.disconnect();
        });
    } else {
      reply({ triaged: server?.runtime.alertingService?.counts.triaged ?? 0 });
    }
  });
  // The parent gone (it crashed, or was stopped): nothing is left to serve.
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}

if (require.main === module) runServer();
