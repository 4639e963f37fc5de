import { isNativeError } from 'node:util/types';

/** A file the command line named could not be opened: says which, as the user wrote it, and why. */
export class IoError extends Error {
  constructor(action: 'read' | 'write', path: string, cause: unknown) {
    super(`cannot ${action} ${path}: ${reason(cause)}`, { cause });
    this.name = 'IoError';
  }
}

/**
 * Node's messages end with the call and the path it was given (`..., open '/x/.out.csv.1f2e.tmp'`):
 * the path is said already, and may be a temporary name the user never chose.
 */
function reason(cause: unknown): string {
  // isNativeError, not instanceof: errors from Node's internals may come from another realm.
  return isNativeError(cause) ? cause.message.replace(/, \w+ '.*'$/, '') : String(cause);
}
