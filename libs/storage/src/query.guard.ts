import { DATETIME64_MAX_MS, DATETIME64_MIN_MS } from './datetime64';
import { StorageException, StorageExceptionCode } from './storage.exception';

/*
 * Checks on query arguments, before they are bound: a NaN or fractional millisecond
 * would otherwise come back as a ClickHouse parse error that names no argument.
 */

function invalid(message: string): StorageException {
  return new StorageException(StorageExceptionCode.INVALID_QUERY, message);
}

export function requireQueryInteger(value: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${name} is ${String(value)}: expected an integer in ${min}..${max}`);
  }
  return value;
}

/** Epoch milliseconds a DateTime64 can hold, or the one just after: `to` bounds are exclusive. */
export function requireInstant(value: number, name: string): number {
  if (!Number.isInteger(value) || value < DATETIME64_MIN_MS || value > DATETIME64_MAX_MS + 1) {
    throw invalid(`${name} is ${String(value)}: expected integer epoch milliseconds`);
  }
  return value;
}

/** A half-open range [from, to) of epoch milliseconds, not empty. */
export function requireTimeRange(from: number, to: number): void {
  requireInstant(from, 'from');
  requireInstant(to, 'to');
  if (from >= to) throw invalid(`from (${from}) is not before to (${to})`);
}

export function requireQueryNumber(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(`${name} is ${String(value)}: expected a finite number`);
  }
  return value;
}

export function requireQueryText(value: string, name: string, maxLength: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw invalid(`${name} must be a string of 1-${maxLength} characters`);
  }
  return value;
}
