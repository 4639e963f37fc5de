import { type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import { createDetector, DEFAULT_DETECTOR } from '@seismo/detectors';
import { SERIES_CSV_HEADER, TIMESTAMP_FORMATS } from '@seismo/series-csv';
import { AtomicFileWriter } from './atomic-file.writer';
import { detectorsHelp } from './detectors.help';
import { openInput } from './input.source';
import { InterruptedError } from './interrupted.error';
import { ReadProgress } from './read.progress';
import { SCORED_CSV_HEADER, ScoringTransform } from './scoring.transform';

interface ScoreOptions {
  output?: string;
  detector: string;
}

/** `seismo score <in.csv> [-o out.csv] [--detector NAME]` */
export function scoreCommand(): Command {
  return new Command('score')
    .summary('score every row of a timestamp,value CSV')
    .description(
      `Scores every row of a CSV whose header is ${SERIES_CSV_HEADER}, online, in one pass: each score ` +
        `comes from earlier rows only, as the engine scores points live. Writes ${SCORED_CSV_HEADER}, ` +
        'one row per input row in input order, scores in [0, 1]. Nothing is stored.',
    )
    .argument('<in.csv>', 'the CSV to score; - reads standard input')
    .option('-o, --output <out.csv>', 'write this file, complete or not at all, instead of standard output')
    .option('--detector <name>', 'the detector to score with', DEFAULT_DETECTOR)
    .addHelpText('after', `\n${detectorsHelp()}\n\nTimestamps: ${TIMESTAMP_FORMATS}.`)
    .action(score);
}

async function score(inputPath: string, options: ScoreOptions): Promise<void> {
  // The detector first: an unknown name fails before any file is opened or created.
  const detector = createDetector(options.detector);
  // On Ctrl-C or a kill, stop cleanly so the temporary output file is removed. The handlers
  // go in before anything is opened: a signal between creating the temporary file and
  // installing them would otherwise end the process and leave the file behind.
  const interruption = new AbortController();
  const interrupt = (signal: NodeJS.Signals): void => interruption.abort(new InterruptedError(signal));
  process.once('SIGINT', interrupt).once('SIGTERM', interrupt);
  try {
    await run(detector, inputPath, options, interruption.signal);
  } finally {
    process.off('SIGINT', interrupt).off('SIGTERM', interrupt);
  }
}

async function run(
  detector: ReturnType<typeof createDetector>,
  inputPath: string,
  options: ScoreOptions,
  interrupted: AbortSignal,
): Promise<void> {
  const input = await openInput(inputPath);
  let file: AtomicFileWriter | undefined;
  try {
    file =
      options.output === undefined || options.output === '-'
        ? undefined
        : await AtomicFileWriter.open(options.output);
  } catch (error) {
    input.stream.destroy();
    throw error;
  }
  const output: Writable = file?.stream ?? process.stdout;
  const progress = ReadProgress.on(process.stderr, input.size);
  try {
    // A signal that came while the files were being opened stops the run here.
    interrupted.throwIfAborted();
    const counted = progress ? [progress.counter()] : [];
    await pipeline([input.stream, ...counted, new ScoringTransform(detector, input.name), output], {
      signal: interrupted,
    });
    await file?.commit();
  } catch (error) {
    input.stream.destroy();
    await file?.abort();
    if (interrupted.aborted) throw interrupted.reason;
    if (!file && (error as NodeJS.ErrnoException).code === 'EPIPE') throw new InterruptedError('SIGPIPE');
    throw error;
  } finally {
    progress?.stop();
  }
}
