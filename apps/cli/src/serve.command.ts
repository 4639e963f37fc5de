import { once } from 'node:events';
import { Command } from 'commander';
import { loadConfig } from '@seismo/config';
import { serve } from '../../api/src/serve';
import { runDemo } from './demo.stream';

interface ServeOptions {
  demo?: boolean;
}

/** `seismo serve [--demo]`: the embedded server, what `npm start` runs. Configured by SEISMO_* variables. */
export function serveCommand(): Command {
  return new Command('serve')
    .summary('run the server (embedded: API and engine in one process; or a role over Kafka)')
    .description(
      'Runs Seismo in one process: storage, tenants, the engine and the HTTP API on SEISMO_PORT (default 8080). ' +
        'With SEISMO_KAFKA_BROKERS, Kafka is the queue and SEISMO_ROLE (all, api, engine) picks what this ' +
        'process runs; an engine serves only /health and /metrics. ' +
        'Configuration comes from ' +
        'SEISMO_* environment variables (see the README); a wrong value stops it at start, naming the variable. ' +
        'Stops cleanly on SIGINT or SIGTERM.',
    )
    .option(
      '--demo',
      'once up, replay a bundled sample stream to a "demo" tenant (kept across restarts) and print how to see ' +
        'the anomalies found in it',
    )
    .action(run);
}

async function run(options: ServeOptions): Promise<void> {
  const config = loadConfig();
  const server = await serve(config);
  // Listening for the signals from here on: a demo still replaying when one comes is stopped, not cut off.
  const stopped = Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  if (server.newAdminToken) {
    process.stderr.write(
      `seismo: admin token (shown once, kept in ${config.dataDir}/admin-token): ${server.newAdminToken}\n`,
    );
  }
  process.stderr.write(`seismo: listening on ${server.url} (GET /health)\n`);
  const demoStop = new AbortController();
  const demo = options.demo
    ? runDemo(server.url, config, (line) => void process.stderr.write(`${line}\n`), demoStop.signal).catch(
        (error: unknown) => {
          // The server is what was asked for; a demo that fails leaves it running.
          if (!demoStop.signal.aborted) {
            process.stderr.write(`seismo: demo: ${error instanceof Error ? error.message : String(error)}\n`);
          }
        },
      )
    : Promise.resolve();
  await stopped;
  process.stderr.write('seismo: shutting down\n');
  demoStop.abort();
  await demo;
  await server.close();
}
