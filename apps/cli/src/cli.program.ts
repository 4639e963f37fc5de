import { Command, CommanderError } from 'commander';
import { description, version } from '../../../package.json';
import { billingCommand } from './billing.command';
import { detectorsHelp } from './detectors.help';
import { ExitCode, exitCodeFor } from './exit-code';
import { InterruptedError } from './interrupted.error';
import { replayCommand } from './replay.command';
import { scoreCommand } from './score.command';
import { serveCommand } from './serve.command';
import { stackCommand } from './stack.command';

/** Every subcommand, each defined in its own `*.command.ts`. */
const COMMANDS: ReadonlyArray<() => Command> = [
  scoreCommand,
  serveCommand,
  replayCommand,
  stackCommand,
  billingCommand,
];

export function buildProgram(): Command {
  const program = new Command('seismo')
    .description(description)
    .version(version)
    .addHelpText('after', `\n${detectorsHelp()}`)
    .exitOverride();
  for (const command of COMMANDS) {
    const added = command().copyInheritedSettings(program);
    // Subcommands (billing reconcile, ...) too: exitOverride, so a usage error returns a status, never exits.
    for (const sub of added.commands) sub.copyInheritedSettings(added);
    program.addCommand(added);
  }
  return program;
}

/** Runs the command line `argv` (as in `process.argv`) and returns the exit status. */
export async function runCli(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return ExitCode.OK;
  } catch (error) {
    // Commander has printed its own usage errors, help and version.
    if (!(error instanceof CommanderError) && !(error instanceof InterruptedError)) {
      process.stderr.write(`seismo: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    return exitCodeFor(error);
  }
}
