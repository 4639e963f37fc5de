import { generateApiKey, hashApiKey, isWellFormedApiKey, legacyApiKeyId, newApiKeyId } from './api-key';

describe('generateApiKey', () => {
  it('is sk_ and 32 random bytes in base64url', () => {
    const key = generateApiKey();
    expect(key).toMatch(/^sk_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key.slice(3), 'base64url')).toHaveLength(32);
  });

  it('never repeats', () => {
    const keys = new Set(Array.from({ length: 1000 }, generateApiKey));
    expect(keys.size).toBe(1000);
  });

  it('makes keys that are well formed', () => {
    expect(isWellFormedApiKey(generateApiKey())).toBe(true);
  });
});

describe('isWellFormedApiKey', () => {
  const key = generateApiKey();
  it.each([
    ['empty', ''],
    ['the prefix alone', 'sk_'],
    ['one character short', key.slice(0, -1)],
    ['one character long', `${key}A`],
    ['another prefix', `pk_${key.slice(3)}`],
    ['padding', `${key.slice(0, -1)}=`],
    ['standard base64', `${key.slice(0, -1)}+`],
    ['a trailing newline', `${key}\n`],
  ])('refuses %s', (_, candidate) => {
    expect(isWellFormedApiKey(candidate)).toBe(false);
  });

  it.each([undefined, null, 42, {}])('refuses %p', (candidate) => {
    expect(isWellFormedApiKey(candidate)).toBe(false);
  });
});

describe('hashApiKey', () => {
  it('is the sha256 of the whole key, in lowercase hex', () => {
    // sha256("sk_test") computed independently: `printf %s sk_test | sha256sum`.
    expect(hashApiKey('sk_test')).toBe('12b2820cf1639904311da5771de1e5bb65c77073fdc7c555df395942df42896b');
  });

  it('is stable and tells keys apart', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(hashApiKey(a)).toBe(hashApiKey(a));
    expect(hashApiKey(a)).not.toBe(hashApiKey(b));
    expect(hashApiKey(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey(a)).not.toContain(a.slice(3));
  });
});

describe('key ids', () => {
  it('are public, random and unrelated to the key', () => {
    const ids = new Set(Array.from({ length: 1000 }, newApiKeyId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^key_[A-Za-z0-9_-]{16}$/);
  });

  it('of keys made before ids existed, derive from the hash, stably', () => {
    const hash = hashApiKey('sk_test');
    expect(legacyApiKeyId(hash)).toBe('key_12b2820cf1639904');
    expect(legacyApiKeyId(hash)).toBe(legacyApiKeyId(hashApiKey('sk_test')));
  });
});
