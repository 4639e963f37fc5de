import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A running stripe-mock: Stripe's own API mock server (a Go program), on loopback. */
export interface StripeMock {
  /** e.g. `http://127.0.0.1:41234`: what SEISMO_STRIPE_API_BASE takes. */
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Where stripe-mock is: STRIPE_MOCK_BIN, else `$(go env GOPATH)/bin/stripe-mock` (where
 * `go install github.com/stripe/stripe-mock@v0.203.0` puts it, and .ci/run does), else PATH.
 */
export function stripeMockBinary(): string {
  if (process.env.STRIPE_MOCK_BIN) return process.env.STRIPE_MOCK_BIN;
  const candidates = [join(homedir(), 'go', 'bin', 'stripe-mock')];
  try {
    const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim();
    if (gopath) candidates.unshift(join(gopath.split(':')[0], 'bin', 'stripe-mock'));
  } catch {
    // No Go on PATH: the default GOPATH and PATH remain.
  }
  return candidates.find((path) => existsSync(path)) ?? 'stripe-mock';
}

/**
 * Starts stripe-mock on 127.0.0.1 on a free port and resolves once it answers an API call.
 *
 * It is started through a small shell that holds a pipe from this process on its stdin:
 * when this process dies, however it dies (a SIGKILLed test runner too), the pipe closes
 * and the shell kills stripe-mock, so no mock outlives its test. `stop` closes the pipe
 * the same way, and kills the process group if that has not ended it within 5 s.
 */
export async function startStripeMock(options: { startTimeoutMs?: number } = {}): Promise<StripeMock> {
  const binary = stripeMockBinary();
  const port = await freeLoopbackPort();
  const child = spawn('/bin/sh', ownedShellArgs(binary, port), {
    stdio: ['pipe', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  child.stdin!.on('error', () => undefined);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const onExit = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', onExit);

  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    process.removeListener('exit', onExit);
    child.stdin!.end();
    const timer = setTimeout(() => onExit(), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(
        `stripe-mock (${binary}) exited with ${child.exitCode} before answering; install it with ` +
          `\`go install github.com/stripe/stripe-mock@v0.203.0\` or set STRIPE_MOCK_BIN.\n${stderr}`,
      );
    }
    if (await answers(url)) return { url, pid: child.pid!, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`stripe-mock did not answer on ${url} within the time limit:\n${stderr}`);
    }
    await sleep(100);
  }
}

/**
 * The arguments of `/bin/sh` that run stripe-mock on 127.0.0.1:`port` for as long as the
 * shell's stdin stays open: $0 is the binary, $@ its arguments; the subshell waits for
 * stdin to close, then kills it. stdin goes through fd 3 because sh gives background jobs
 * /dev/null as their stdin.
 */
export function ownedShellArgs(binary: string, port: number): string[] {
  return [
    '-c',
    'exec 3<&0; "$0" "$@" </dev/null & pid=$!; (cat <&3 >/dev/null; kill $pid 2>/dev/null) & wait $pid',
    binary,
    '-http-addr',
    `127.0.0.1:${port}`,
  ];
}

export async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/v1/billing/meters`, {
      headers: { authorization: 'Bearer sk_test_probe' },
      signal: AbortSignal.timeout(1000),
    });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
