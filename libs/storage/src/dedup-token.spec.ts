import { parseDedupToken } from './dedup-token';
import { StorageException, StorageExceptionCode } from './storage.exception';

describe('parseDedupToken', () => {
  it.each(['seismo.points/3/1200-1299', 'a', 'k:v@x+y=z_', 'x'.repeat(256)])('accepts %s', (raw) => {
    expect(parseDedupToken(raw)).toBe(raw);
  });

  // Quotes and backslashes above all: the token is spliced into a SETTINGS clause.
  it.each(['', "it's", 'back\\slash', 'a b', 'new\nline', 'x'.repeat(257)])(
    'refuses %j, naming it',
    (raw) => {
      let error: unknown;
      try {
        parseDedupToken(raw);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StorageException);
      expect((error as StorageException).code).toBe(StorageExceptionCode.INVALID_DEDUP_TOKEN);
      expect((error as StorageException).message).toContain(JSON.stringify(raw));
    },
  );
});
