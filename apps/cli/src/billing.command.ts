import { once } from 'node:events';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import {
  type BillingDifference,
  BillingSendRepository,
  BillingWorker,
  hourLabel,
  reconcileBilling,
  StripeMeterGateway,
  TenantBillingRepository,
} from '@seismo/billing';
import { ConfigError, loadConfig, type SeismoConfig } from '@seismo/config';
import { ClickHouseConnection, Migrator, UsageRepository } from '@seismo/storage';
import { ExitCode } from './exit-code';

/** `reconcile` found counters and send-log apart: exit status 3, told apart from a failure (1). */
export class BillingDifferencesError extends Error {
  readonly exitCode = ExitCode.DIFFERENCES;
  constructor(count: number) {
    super(`${count} difference${count === 1 ? '' : 's'} between the usage counters and the send-log`);
    this.name = 'BillingDifferencesError';
  }
}

/**
 * `seismo billing reconcile` and `seismo billing run`: billing's operations, against the
 * same store the server uses (SEISMO_CLICKHOUSE_URL, or the embedded ClickHouse in
 * SEISMO_DATA_DIR, which only one process may open at a time: stop the server first).
 */
export function billingCommand(): Command {
  const billing = new Command('billing').summary(
    'reconcile usage with what was billed, or run the billing worker',
  );
  billing
    .command('reconcile')
    .summary('compare the usage counters with the send-log of Stripe meter events; exit 3 on a difference')
    .description(
      'For every tenant linked to a Stripe customer, every closed hour and every billed meter, compares what was ' +
        'counted with what Stripe took (send-log status sent), and prints each difference: unsent (the worker ' +
        "will send it), unbillable (older than Stripe's 35-day window, never sent: bill it by hand), overbilled. " +
        'Exits 0 when there is none, 3 when there is any, 1 when it could not compare.',
    )
    .option('--json', 'print the report as JSON')
    .option(
      '--close-delay-ms <ms>',
      'how long after its end an hour counts as closed (default SEISMO_BILLING_CLOSE_DELAY_MS)',
      milliseconds,
    )
    .action(async (options: { json?: boolean; closeDelayMs?: number }) => {
      const config = loadConfig();
      await withStore(config, async (connection) => {
        const report = await reconcileBilling(
          new UsageRepository(connection),
          new TenantBillingRepository(connection),
          new BillingSendRepository(connection),
          {
            now: Date.now(),
            closeDelayMs: options.closeDelayMs ?? config.billing?.closeDelayMs ?? 600_000,
          },
        );
        if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
        else printReport(report.tenants, report.hours, report.differences);
        if (report.differences.length > 0) throw new BillingDifferencesError(report.differences.length);
      });
    });
  billing
    .command('run')
    .summary('run the billing worker alone (the server runs it too when SEISMO_STRIPE_API_KEY is set)')
    .description(
      'Sends the closed hours of usage to Stripe as `seismo serve` does, in a process of its own, until SIGINT or ' +
        'SIGTERM; with --once, one run. Needs SEISMO_STRIPE_API_KEY.',
    )
    .option('--once', 'one run, then exit (1 if Stripe or storage failed)')
    .action(async (options: { once?: boolean }) => {
      const config = loadConfig();
      const settings = config.billing;
      if (!settings) {
        throw new ConfigError([
          { variable: 'SEISMO_STRIPE_API_KEY', problem: 'required by seismo billing run' },
        ]);
      }
      await withStore(config, async (connection) => {
        const worker = new BillingWorker(
          new UsageRepository(connection),
          new TenantBillingRepository(connection),
          new BillingSendRepository(connection),
          new StripeMeterGateway({
            apiKey: settings.stripeApiKey,
            ...(settings.stripeApiBase ? { apiBase: settings.stripeApiBase } : {}),
          }),
          {
            intervalMs: settings.intervalMs,
            closeDelayMs: settings.closeDelayMs,
            logger: {
              log: (message) => void process.stderr.write(`seismo: billing: ${String(message)}\n`),
              warn: (message) => void process.stderr.write(`seismo: billing: ${String(message)}\n`),
              error: (message) => void process.stderr.write(`seismo: billing: ${String(message)}\n`),
            },
            completed: () => void process.stderr.write('seismo: billing: run complete\n'),
          },
        );
        if (options.once) {
          const report = await worker.runOnce();
          process.stdout.write(`${JSON.stringify(report)}\n`);
          return;
        }
        const stopped = Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
        worker.start();
        await stopped;
        await worker.stop();
      });
    });
  return billing;
}

async function withStore(config: SeismoConfig, use: (connection: ClickHouseConnection) => Promise<void>) {
  const connection = await ClickHouseConnection.open({
    ...(config.clickhouseUrl ? { url: config.clickhouseUrl } : {}),
    dataDir: join(config.dataDir, 'clickhouse'),
  });
  try {
    await new Migrator(connection.client).migrate();
    await use(connection);
  } finally {
    await connection.close();
  }
}

function printReport(tenants: number, hours: number, differences: readonly BillingDifference[]): void {
  const lines = [
    `billing reconcile: ${tenants} linked tenants, ${hours} closed tenant-hours, ${differences.length} differences`,
  ];
  if (differences.length > 0) {
    lines.push(['tenant', 'meter', 'hour (UTC)', 'counted', 'sent', 'pending', 'expired', 'kind'].join('\t'));
    for (const d of differences) {
      lines.push(
        [d.tenantId, d.meter, hourLabel(d.hour), d.counted, d.sent, d.pending, d.expired, d.kind].join('\t'),
      );
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

function milliseconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}
