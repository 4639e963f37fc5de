import { createHash, randomBytes } from 'node:crypto';

declare const apiKeyHashBrand: unique symbol;

/** The sha256 of an API key, 64 lowercase hex digits: the only form of a key that is stored. */
export type ApiKeyHash = string & { readonly [apiKeyHashBrand]: true };

const PREFIX = 'sk_';
const KEY_BYTES = 32;
// 32 bytes are 43 base64url characters (no padding).
const API_KEY = /^sk_[A-Za-z0-9_-]{43}$/;

/**
 * A new API key: `sk_` and 32 random bytes in base64url. The prefix lets secret scanners
 * and people recognise a Seismo key; 256 random bits make guessing hopeless. The key is
 * returned to be shown once and never stored or logged: keep only `hashApiKey(key)`.
 */
export function generateApiKey(): string {
  return PREFIX + randomBytes(KEY_BYTES).toString('base64url');
}

/** Whether `key` has the shape generateApiKey gives, so junk is refused before it is hashed. */
export function isWellFormedApiKey(key: unknown): key is string {
  return typeof key === 'string' && API_KEY.test(key);
}

/**
 * The stored form of a key. A plain sha256, not a slow salted hash: those protect
 * guessable passwords, and a 256-bit random key cannot be guessed, so one fast hash
 * keeps a leaked table useless while letting every request be checked in microseconds.
 */
export function hashApiKey(key: string): ApiKeyHash {
  return createHash('sha256').update(key, 'utf8').digest('hex') as ApiKeyHash;
}

/**
 * A key's public id (`key_` and 16 base64url characters), by which it is listed and
 * revoked. Random rather than derived from the key or its hash, so showing it (in a
 * listing, the audit log, a support ticket) tells nothing about the secret.
 */
export function newApiKeyId(): string {
  return `key_${randomBytes(12).toString('base64url')}`;
}

/**
 * The public id of a key made before keys had one (migration 0005 left it empty): the
 * first 16 hex digits of its hash, stable across processes and restarts. The hash of a
 * 256-bit random key gives nothing away; 64 bits keep ids of one tenant apart.
 */
export function legacyApiKeyId(keyHash: ApiKeyHash): string {
  return `key_${keyHash.slice(0, 16)}`;
}
