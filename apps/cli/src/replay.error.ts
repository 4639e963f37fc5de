/**
 * A replay the server would not take: it refused the key or the request (a 4xx), or
 * stayed unreachable or overloaded through every retry. The message names the server's
 * status and its own words, and exits 1: the file was fine, the server was not.
 */
export class ReplayError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReplayError';
  }
}
