import { once } from 'node:events';
import { Command } from 'commander';
import { loadConfig } from '@seismo/config';
import { serve } from '../../api/src/serve';

/** `seismo serve`: the embedded server, what `npm start` runs. Configured by SEISMO_* variables. */
export function serveCommand(): Command {
  return new Command('serve')
    .summary('run the embedded server (API and engine in one process)')
    .description(
      'Runs Seismo in one process: storage, tenants, the engine and the HTTP API on SEISMO_PORT (default 8080). ' +
        'Configuration comes from ' +
        'SEISMO_* environment variables (see the README); a wrong value stops it at start, naming the variable. ' +
        'Stops cleanly on SIGINT or SIGTERM.',
    )
    .action(run);
}

async function run(): Promise<void> {
  const config = loadConfig();
  const server = await serve(config);
  if (server.newAdminToken) {
    process.stderr.write(
      `seismo: admin token (shown once, kept in ${config.dataDir}/admin-token): ${server.newAdminToken}\n`,
    );
  }
  process.stderr.write(`seismo: listening on ${server.url} (GET /health)\n`);
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  process.stderr.write('seismo: shutting down\n');
  await server.close();
}
