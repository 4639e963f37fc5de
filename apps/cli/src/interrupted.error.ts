/**
 * The run was stopped from outside: by a signal, or by the reader of standard output
 * going away (a broken pipe, as `seismo score big.csv | head` ends). Nothing to
 * report; the exit status says which signal, as a shell would (128 + its number).
 */
export class InterruptedError extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
    this.name = 'InterruptedError';
  }
}
