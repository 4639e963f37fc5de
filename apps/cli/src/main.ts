import { runCli } from './cli.program';

// The exit status is set, not forced with process.exit(), so output still being
// flushed to a pipe is not cut off.
void runCli(process.argv).then((code) => {
  process.exitCode = code;
});
