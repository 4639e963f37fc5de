import { DATETIME64_MAX_MS, DATETIME64_MIN_MS } from './datetime64';
import { StorageException, StorageExceptionCode } from './storage.exception';

/*
 * Checks on the fields of rows about to be written. ClickHouse would not reject these
 * values, it would store something else: NaN as 0 (JSON null into a non-nullable
 * column), 300 as 44 in a UInt8 (both seen on chdb 3.4). A sink that stores the wrong
 * number is worse than one that stops, so a bad row fails the whole batch, naming the
 * row and field (`points[12].value`).
 *
 * The checks run for every field of every point, so the path is passed in pieces and
 * only joined into a string when a check fails.
 */

/**
 * Longest series key accepted. Ingest decides the real limit (4096 by default); this one
 * only keeps garbage out, so it leaves ingest room to raise its own.
 */
export const MAX_SERIES_LENGTH = 16_384;

/** The error for `rows[index].field` holding `value` where `expected` was due. */
export function invalidRecord(
  rows: string,
  index: number,
  field: string,
  value: unknown,
  expected: string,
): StorageException {
  return new StorageException(
    StorageExceptionCode.INVALID_RECORD,
    `${rows}[${index}].${field} is ${describe(value)}: expected ${expected}`,
  );
}

function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

export function requireFinite(value: number, rows: string, index: number, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalidRecord(rows, index, field, value, 'a finite number');
  }
  return value;
}

export function requireInteger(
  value: number,
  rows: string,
  index: number,
  field: string,
  min: number,
  max: number,
): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidRecord(rows, index, field, value, `an integer in ${min}..${max}`);
  }
  return value;
}

export function requireEpochMillis(value: number, rows: string, index: number, field: string): number {
  if (!Number.isInteger(value) || value < DATETIME64_MIN_MS || value > DATETIME64_MAX_MS) {
    throw invalidRecord(
      rows,
      index,
      field,
      value,
      'integer epoch milliseconds between 1900-01-01 and 2299-12-31 (UTC)',
    );
  }
  return value;
}

export function requireText(
  value: string,
  rows: string,
  index: number,
  field: string,
  maxLength: number,
): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw invalidRecord(rows, index, field, value, `a string of 1-${maxLength} characters`);
  }
  return value;
}
