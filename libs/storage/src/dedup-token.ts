import { StorageException, StorageExceptionCode } from './storage.exception';

declare const dedupTokenBrand: unique symbol;

/**
 * The identity of one batch write, derived by the caller from where the batch came from
 * (e.g. `seismo.points/3/1200-1299`: topic, partition, offset range). Writing a batch
 * again with its token is a no-op, which is what makes a replay after a crash safe.
 */
export type DedupToken = string & { readonly [dedupTokenBrand]: true };

// ClickHouse takes a setting's value as a SQL literal, never as a bound parameter, so the
// token is restricted to characters that need no quoting rather than escaped.
const DEDUP_TOKEN = /^[A-Za-z0-9._:/@+=-]{1,256}$/;

/** Checks `raw` and brands it; throws INVALID_DEDUP_TOKEN naming the value otherwise. */
export function parseDedupToken(raw: string): DedupToken {
  if (typeof raw !== 'string' || !DEDUP_TOKEN.test(raw)) {
    throw new StorageException(
      StorageExceptionCode.INVALID_DEDUP_TOKEN,
      `invalid dedup token ${JSON.stringify(raw)}: expected 1-256 characters among letters, digits and . _ : / @ + = -`,
    );
  }
  return raw as DedupToken;
}
