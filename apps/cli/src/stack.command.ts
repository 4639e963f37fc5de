import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { loadConfig, type SeismoRole } from '@seismo/config';
import { startKafkaBroker } from '@seismo/kafka';

/** The program this one is: each process of the stack is a `seismo serve`. */
const BIN = resolve(__dirname, '..', '..', '..', '..', 'bin', 'seismo.js');

interface StackProcess {
  readonly name: string;
  readonly role: SeismoRole;
  /** SEISMO_PORT for it; absent: the one configured (the API's). */
  readonly port?: string;
}

/**
 * `seismo stack` (`npm run stack`): Kafka mode on one machine, for development. A real Kafka
 * broker on 127.0.0.1 (deploy/kafka: needs Java 17 and Maven), then `seismo serve` processes over
 * it, configured by the same SEISMO_* variables as `serve`.
 */
export function stackCommand(): Command {
  return new Command('stack')
    .summary('run Seismo over a local Kafka broker, one process per role (development)')
    .description(
      'Starts a Kafka broker on 127.0.0.1 (built from deploy/kafka: Java 17 and Maven), then Seismo over it. ' +
        'With SEISMO_CLICKHOUSE_URL: an API process (SEISMO_ROLE=api, on SEISMO_PORT) and two engine processes ' +
        '(SEISMO_ROLE=engine, /health and /metrics on free ports). Without it, one process with SEISMO_ROLE=all: ' +
        'embedded ClickHouse keeps its data directory to one process, so the API could not read what separate ' +
        'engines write. Stops everything on SIGINT or SIGTERM. The broker keeps nothing across runs.',
    )
    .action(run);
}

async function run(): Promise<void> {
  // Checked here once, so that a wrong variable stops the stack before the broker starts.
  const config = loadConfig();
  const stopped = Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  const say = (line: string): void => void process.stderr.write(`seismo stack: ${line}\n`);

  say('starting a Kafka broker on 127.0.0.1 (the first start of a version builds it, about a minute)');
  const broker = await startKafkaBroker({ ownProcessGroup: true });
  const brokers = broker.brokers.join(',');
  say(`Kafka broker at ${brokers} (pid ${broker.pid})`);

  const plan: StackProcess[] = config.clickhouseUrl
    ? [
        { name: 'engine-1', role: 'engine', port: '0' },
        { name: 'engine-2', role: 'engine', port: '0' },
        { name: 'api', role: 'api' },
      ]
    : [{ name: 'seismo', role: 'all' }];
  if (!config.clickhouseUrl) {
    say(
      'SEISMO_CLICKHOUSE_URL is not set: one process runs the API and the engine over Kafka (SEISMO_ROLE=all); ' +
        'set it to a ClickHouse server to run an API process and two engine processes',
    );
  }

  const children = plan.map((process) => launch(process, brokers, say));
  const failed = Promise.race(children.map((child) => child.exited.then((code) => ({ child, code }))));
  const outcome = await Promise.race([
    stopped.then(() => undefined),
    failed,
    Promise.all(children.map((child) => child.listening)).then((urls) => {
      say(`API listening on ${urls[urls.length - 1]} (GET /health); Ctrl-C stops the stack`);
      return Promise.race([stopped.then(() => undefined), failed]);
    }),
  ]);

  say('stopping');
  // The processes first, while the broker still answers: their engines leave the group cleanly.
  await Promise.all(children.map((child) => child.stop()));
  await broker.stop();
  if (outcome) {
    throw new Error(`${outcome.child.name} exited with code ${outcome.code}; the stack is stopped`);
  }
}

interface RunningProcess {
  readonly name: string;
  readonly exited: Promise<number | null>;
  readonly listening: Promise<string>;
  stop(): Promise<void>;
}

/** One `seismo serve`, its output prefixed with its name. */
function launch(plan: StackProcess, brokers: string, say: (line: string) => void): RunningProcess {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve'], {
    env: {
      ...process.env,
      SEISMO_ROLE: plan.role,
      SEISMO_KAFKA_BROKERS: brokers,
      ...(plan.port !== undefined ? { SEISMO_PORT: plan.port } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  say(`started ${plan.name} (SEISMO_ROLE=${plan.role}, pid ${child.pid})`);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const listening = new Promise<string>((found) => {
    let pending = '';
    const forward = (chunk: Buffer): void => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        process.stderr.write(`[${plan.name}] ${line}\n`);
        const match = /listening on (http:\/\/\S+)/.exec(line);
        if (match) found(match[1]);
      }
    };
    child.stdout!.on('data', forward);
    child.stderr!.on('data', forward);
  });
  return {
    name: plan.name,
    exited,
    listening,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
