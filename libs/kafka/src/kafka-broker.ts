import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';

/**
 * A real single-node Apache Kafka (KRaft: broker and controller in one JVM) on 127.0.0.1, for
 * integration tests and local runs. The jars come from Maven Central through deploy/kafka/build.sh
 * (once per version); each broker gets fresh ports and a fresh temporary directory.
 *
 * The JVM is started through deploy/kafka's BrokerLauncher, whose stdin is a pipe from this
 * process: when this process ends, however it ends (even SIGKILL), the kernel closes the pipe and
 * the broker halts. A broker therefore never outlives its owner, and never keeps it alive either
 * (its handles are unref'd). Temporary directories of owners that died without stop() are removed
 * by the next start.
 */

export const DEFAULT_KAFKA_VERSION = '3.9.1';

export interface KafkaBrokerOptions {
  /** Apache Kafka release, 3.9.0 or newer. Default: env KAFKA_VERSION, else 3.9.1. */
  version?: string;
  /** Maximum JVM heap in MiB. Default 512. */
  heapMb?: number;
  /** Client port on 127.0.0.1. Default: a free one (the controller port is always free-picked). */
  port?: number;
  /** server.properties entries added to, or replacing, the test defaults. */
  config?: Readonly<Record<string, string | number | boolean>>;
  /** How long the broker may take to answer, once its jars are built. Default 60 s. */
  startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. Default 10 s. */
  stopGraceMs?: number;
  /**
   * Runs the JVM in a process group of its own, so that a Ctrl-C in a terminal reaches only the
   * owner, which can stop its broker's clients before the broker. Default false.
   */
  ownProcessGroup?: boolean;
}

export interface KafkaBroker {
  /** Bootstrap addresses for clients, e.g. ['127.0.0.1:40123']. */
  readonly brokers: string[];
  readonly version: string;
  /** The JVM's process id. */
  readonly pid: number;
  /** The broker's temporary directory: server.properties, broker.log, data/. Removed by stop(). */
  readonly dir: string;
  /** SIGTERM, SIGKILL after the grace period, then removes the directory. Safe to call twice. */
  stop(): Promise<void>;
}

export class KafkaBrokerStartError extends Error {
  constructor(
    message: string,
    readonly logTail: string,
  ) {
    super(logTail ? `${message}\n--- end of the broker's log ---\n${logTail}` : message);
    this.name = 'KafkaBrokerStartError';
  }
}

const DIR_PREFIX = 'seismo-kafka-';
const OWNER_FILE = 'owner.pid';
// The first build downloads ~45 MB and starts a broker once (see build.sh); minutes on a slow link.
const BUILD_TIMEOUT_MS = 10 * 60_000;
// Free-port picking cannot reserve the port: another process may bind it before the broker does.
const START_ATTEMPTS_ON_PORT_CLASH = 3;

export async function startKafkaBroker(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const version = options.version ?? process.env.KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION;
  if (!/^\d+\.\d+\.\d+$/.test(version)) {
    throw new Error(`Kafka version must be a release such as ${DEFAULT_KAFKA_VERSION}, not '${version}'`);
  }
  const deployDir = findDeployDir();
  const libDir = await buildJars(deployDir, version);
  removeAbandonedBrokerDirs();

  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(deployDir, libDir, version, options);
    } catch (error) {
      const clash = error instanceof KafkaBrokerStartError && /Address already in use/.test(error.logTail);
      if (!clash || options.port !== undefined || attempt === START_ATTEMPTS_ON_PORT_CLASH) throw error;
    }
  }
}

/**
 * Removes the temporary directories of brokers whose owner died without calling stop(); their
 * JVMs halted with the owner. Called by every start; exported for tests and cleanup scripts.
 */
export function removeAbandonedBrokerDirs(parent: string = tmpdir()): void {
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = join(parent, name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue; // not ours, or being created right now
    }
    if (Number.isInteger(owner) && owner > 0 && !isProcessAlive(owner)) {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/**
 * False for a process that does not exist, or that exited and awaits reaping (a zombie, as an
 * orphaned broker is until init reaps it). A JVM reads as a zombie as soon as its main thread has
 * exited, while its other threads may still be closing its sockets for a few milliseconds.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, it just belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ...", comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no procfs (not Linux): kill(0) is all we can know
  }
}

async function launch(
  deployDir: string,
  libDir: string,
  version: string,
  options: KafkaBrokerOptions,
): Promise<KafkaBroker> {
  const dir = await mkdtemp(join(tmpdir(), DIR_PREFIX));
  await writeFile(join(dir, OWNER_FILE), String(process.pid));
  const port = options.port ?? (await freeLoopbackPort());
  const controllerPort = await freeLoopbackPort();
  const address = `127.0.0.1:${port}`;
  const major = Number(version.split('.')[0]);
  const propertiesFile = join(dir, 'server.properties');
  await writeFile(
    propertiesFile,
    serverProperties({ dir, port, controllerPort, major, overrides: options.config ?? {} }),
  );

  const logFile = join(dir, 'broker.log');
  const logFd = openSync(logFile, 'a');
  const archive = join(libDir, 'kafka.jsa');
  const java = spawn(
    'java',
    [
      `@${join(deployDir, 'config', 'jvm.options')}`,
      `-Xmx${options.heapMb ?? 512}m`,
      // Recorded by build.sh; a JVM that cannot map it warns in broker.log and starts without it.
      ...(existsSync(archive) ? [`-XX:SharedArchiveFile=${archive}`] : []),
      major >= 4
        ? `-Dlog4j2.configurationFile=${join(deployDir, 'config', 'log4j2.properties')}`
        : `-Dlog4j.configuration=file:${join(deployDir, 'config', 'log4j.properties')}`,
      '-cp',
      `${libDir}/*`, // expanded by java itself, no shell involved
      'seismo.kafka.BrokerLauncher',
      propertiesFile,
      clusterId(),
    ],
    // The JVM writes its log straight to the file: nothing to pump, and the file outlives us.
    { cwd: dir, stdio: ['pipe', logFd, logFd], detached: options.ownProcessGroup ?? false },
  );
  closeSync(logFd);
  const exited = exitOf(java);
  const stdin = java.stdin!;
  // Nothing is ever written to stdin; its closing is the owner-death signal. An EPIPE after the
  // JVM died must not become an uncaught 'error' event in the test process.
  stdin.on('error', () => undefined);
  java.unref();
  (stdin as unknown as { unref(): void }).unref();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await terminate(java, exited, options.stopGraceMs ?? 10_000);
      stdin.destroy();
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    })());

  try {
    await waitUntilServing(address, exited, options.startTimeoutMs ?? 60_000, version);
  } catch (error) {
    await terminate(java, exited, 0);
    stdin.destroy();
    const tail = await logTail(logFile);
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    throw new KafkaBrokerStartError((error as Error).message, tail);
  }
  return { brokers: [address], version, pid: java.pid!, dir, stop };
}

/**
 * Single node, loopback only, everything sized for tests: one replica, one partition for the
 * internal topics, no rebalance delay, small segments, a few threads.
 */
function serverProperties(p: {
  dir: string;
  port: number;
  controllerPort: number;
  major: number;
  overrides: Readonly<Record<string, string | number | boolean>>;
}): string {
  const config: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    // A static quorum of one: no --standalone formatting, and the same file serves 3.9 and 4.x.
    'controller.quorum.voters': `1@127.0.0.1:${p.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${p.port},CONTROLLER://127.0.0.1:${p.controllerPort}`,
    // Only the client listener is advertised: clients must never be sent to the controller port.
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${p.port}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': join(p.dir, 'data'),
    // Topics are created on purpose, as in production; a typo should fail, not create a topic.
    'auto.create.topics.enable': false,
    'num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'offsets.topic.replication.factor': 1,
    // One partition: the first consumer group of a test creates __consumer_offsets in
    // milliseconds instead of creating and loading 50 partitions.
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    // A group of one consumer starts consuming at once instead of after 3 s.
    'group.initial.rebalance.delay.ms': 0,
    // Retention and compaction tests see segments roll without writing a gigabyte; index files
    // are preallocated to their maximum size, so they shrink with the segments.
    'log.segment.bytes': 8 * 1024 * 1024,
    'log.index.size.max.bytes': 1024 * 1024,
    // The cleaner allocates this on the heap at start: 128 MiB by default, a quarter of ours.
    'log.cleaner.dedupe.buffer.size': 8 * 1024 * 1024,
    'num.network.threads': 2,
    'num.io.threads': 2,
    'background.threads': 2,
    ...(p.major >= 4
      ? {
          // Share groups' state topic (4.x) defaults to 3 replicas, which one node cannot host.
          'share.coordinator.state.topic.replication.factor': 1,
          'share.coordinator.state.topic.min.isr': 1,
        }
      : {}),
    ...p.overrides,
  };
  return Object.entries(config)
    .map(([key, value]) => {
      if (/[\r\n]/.test(`${key}${value}`)) throw new Error(`server.properties entry '${key}' spans lines`);
      return `${key}=${value}`;
    })
    .join('\n')
    .concat('\n');
}

/** Kafka's Uuid in the form StorageTool parses: 16 random bytes, base64url without padding. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    // Kafka's own Uuid.randomUuid() refuses a leading '-' too: the id would read as an option.
    if (!id.startsWith('-')) return id;
  }
}

async function buildJars(deployDir: string, version: string): Promise<string> {
  const libDir = join(deployDir, 'lib', version);
  // build.sh is idempotent, but checking its marker here saves a bash start per broker.
  if (existsSync(join(libDir, '.complete'))) return libDir;

  const build = spawn('bash', [join(deployDir, 'build.sh')], {
    env: { ...process.env, KAFKA_VERSION: version },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  build.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  build.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => build.kill('SIGKILL'), BUILD_TIMEOUT_MS);
  const { code, signal } = await exitOf(build).finally(() => clearTimeout(timer));
  if (code !== 0) {
    const how = signal ? `was killed (${signal}) after ${BUILD_TIMEOUT_MS} ms` : `failed (exit ${code})`;
    throw new Error(`deploy/kafka/build.sh for Kafka ${version} ${how}:\n${stderr.trim()}`);
  }
  return stdout.trim().split('\n').pop()!;
}

function findDeployDir(): string {
  // Walk up rather than count levels, so that a compiled copy of this file finds it too.
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'deploy', 'kafka');
    if (existsSync(join(candidate, 'build.sh'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`deploy/kafka/build.sh not found above ${__dirname}`);
  }
}

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve, reject) => {
    // 'error' without 'exit' means it never started (e.g. java or bash not on PATH).
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * Ready means serving clients: the broker is unfenced and its client listener processes requests
 * (KRaft opens the port earlier but answers only then). Fails fast if the JVM exits meanwhile.
 */
async function waitUntilServing(
  address: string,
  exited: Promise<Exit>,
  timeoutMs: number,
  version: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let settled = false;
  const died = exited.then(
    ({ code, signal }) => {
      throw new Error(`Kafka ${version} exited during start (${signal ?? `exit code ${code}`})`);
    },
    (error: Error) => {
      throw new Error(`could not start java for Kafka ${version}: ${error.message}`);
    },
  );
  const probe = (async () => {
    const kafka = new Kafka({
      clientId: 'seismo-broker-probe',
      brokers: [address],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1_000,
      // Long enough for a request sent to a listener that accepts but does not process yet.
      requestTimeout: 5_000,
      retry: { retries: 0 },
    });
    while (!settled) {
      const admin = kafka.admin();
      try {
        await admin.connect();
        if ((await admin.describeCluster()).brokers.length > 0) return;
      } catch {
        // Not serving yet.
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
      if (Date.now() > deadline) {
        throw new Error(`Kafka ${version} did not answer on ${address} within ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  try {
    await Promise.race([probe, died]);
  } finally {
    settled = true;
    // The loser settles later (the JVM exits at stop(), the probe ends its last attempt): nobody
    // waits for it any more, and it must not surface as an unhandled rejection.
    probe.catch(() => undefined);
    died.catch(() => undefined);
  }
}

async function terminate(child: ChildProcess, exited: Promise<Exit>, graceMs: number): Promise<void> {
  const gone = exited.then(
    () => true,
    () => true,
  );
  if (child.exitCode !== null || child.signalCode !== null) return;
  // Kept referenced while stopping, so that the owner cannot exit before the directory is removed.
  child.ref();
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)));
  if (!(await Promise.race([gone, graceOver]))) child.kill('SIGKILL');
  clearTimeout(timer);
  await gone;
}

async function logTail(file: string, lines = 40): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 64 * 1024);
      const { buffer } = await handle.read(Buffer.alloc(length), 0, length, size - length);
      return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } finally {
      await handle.close();
    }
  } catch {
    return ''; // no log at all: the error message says enough
  }
}
