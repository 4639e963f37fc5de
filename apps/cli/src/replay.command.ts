import { Command, InvalidArgumentError, Option } from 'commander';
import { SERIES_CSV_HEADER, TIMESTAMP_FORMATS } from '@seismo/series-csv';
import { CsvReplayer } from './csv.replayer';
import { InterruptedError } from './interrupted.error';
import { PointsClient } from './points.client';

export const DEFAULT_SERVER_URL = 'http://localhost:8080';
/** Far below the server's 100,000 per request, and large enough that a file goes out in few requests. */
export const DEFAULT_BATCH = 5_000;
const MAX_BATCH = 100_000;

interface ReplayCommandOptions {
  series: string;
  url: string;
  key?: string;
  speed: number;
  batch: number;
}

/** `seismo replay <in.csv> --series NAME [--url U] [--key K] [--speed X] [--batch N]` */
export function replayCommand(): Command {
  return new Command('replay')
    .summary('push a timestamp,value CSV to a running server as a live stream')
    .description(
      `Sends every row of a CSV whose header is ${SERIES_CSV_HEADER} to a Seismo server's POST /v1/points, ` +
        'as points of one series, in file order. The file is moved in time, the spacing between its points ' +
        'kept, so that the stream ends now: a server takes points from 7 days back only, and a file may be ' +
        'years old. --speed X plays it X times faster than recorded from now on (1: real time), each point ' +
        'stamped with the instant it is sent at the latest; --speed max (the default) lays it out ending now ' +
        'and sends it as fast as the server takes it. The file is checked whole before anything is sent. ' +
        'Busy or unreachable servers are retried; a refused key or request stops the replay (exit 1). ' +
        'Points the server refuses are reported with their line in the file.',
    )
    .argument('<in.csv>', 'the CSV to replay (a file: it is read twice)')
    .requiredOption('--series <name>', 'the series (metric name) the points belong to')
    .option('--url <url>', 'the server', parseUrl, DEFAULT_SERVER_URL)
    .addOption(new Option('--key <key>', 'a tenant API key').env('SEISMO_API_KEY'))
    .option('--speed <x>', 'times faster than real time, or max (also 0)', parseSpeed, Infinity)
    .option('--batch <n>', `points per request, 1 to ${MAX_BATCH}`, parseBatch, DEFAULT_BATCH)
    .addHelpText('after', `\nTimestamps: ${TIMESTAMP_FORMATS}.`)
    .action(replay);
}

async function replay(path: string, options: ReplayCommandOptions, command: Command): Promise<void> {
  // command.error prints as Commander's own usage errors do, and exits 2 like them.
  if (path === '-')
    command.error('error: replay reads its file twice (to lay out its time span): give a path, not -');
  if (!options.key) command.error('error: no API key: pass --key or set SEISMO_API_KEY');
  const report = (line: string): void => void process.stderr.write(`${line}\n`);
  const client = new PointsClient(options.url, options.key, undefined, (problem, delay) =>
    report(`seismo: replay: ${problem}; retrying in ${(delay / 1000).toFixed(1)} s`),
  );
  // On Ctrl-C or a kill, abort the wait or the request in flight and exit as a shell
  // expects (128 + the signal), rather than die with a half-printed progress line.
  const interruption = new AbortController();
  const interrupt = (signal: NodeJS.Signals): void => interruption.abort(new InterruptedError(signal));
  process.once('SIGINT', interrupt).once('SIGTERM', interrupt);
  try {
    const summary = await new CsvReplayer({
      path,
      series: options.series,
      speed: options.speed,
      batchSize: options.batch,
      client,
      report,
      signal: interruption.signal,
    }).run();
    const range =
      summary.points === 0
        ? 'the file has no rows'
        : `timestamps ${new Date(summary.from).toISOString()} to ${new Date(summary.to).toISOString()}`;
    report(
      `seismo: replayed ${path} as series ${JSON.stringify(options.series)} to ${options.url}: ` +
        `${summary.accepted} points accepted, ${summary.rejected} refused (${range})`,
    );
  } finally {
    process.off('SIGINT', interrupt).off('SIGTERM', interrupt);
  }
}

function parseSpeed(text: string): number {
  if (text === 'max' || text === '0') return Infinity;
  const speed = Number(text);
  if (!(speed > 0) || !Number.isFinite(speed)) {
    throw new InvalidArgumentError('must be a number above 0 (times real time), or max');
  }
  return speed;
}

function parseBatch(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_BATCH) {
    throw new InvalidArgumentError(`must be a whole number from 1 to ${MAX_BATCH}`);
  }
  return n;
}

function parseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError('must be a URL, like http://localhost:8080');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError('must be http or https');
  return text;
}
