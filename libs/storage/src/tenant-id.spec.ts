import { StorageException, StorageExceptionCode } from './storage.exception';
import { parseTenantId, type TenantId } from './tenant-id';

describe('parseTenantId', () => {
  it.each(['acme', 'a', 'Tenant_01-eu', '0f8fad5b-d9cb-469f-a165-70867728950e', 'x'.repeat(64)])(
    'accepts %s',
    (raw) => {
      expect(parseTenantId(raw)).toBe(raw);
    },
  );

  it.each(['', '-leading', '_leading', 'has space', "quo'te", 'a/b', 'x'.repeat(65), 'é'])(
    'refuses %j, naming it',
    (raw) => {
      let error: unknown;
      try {
        parseTenantId(raw);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StorageException);
      expect((error as StorageException).code).toBe(StorageExceptionCode.INVALID_TENANT_ID);
      expect((error as StorageException).message).toContain(JSON.stringify(raw));
    },
  );

  it('is the only way to a TenantId: a plain string does not type-check', () => {
    // Checked by `npm run typecheck`: each line below must fail to compile.
    const takesTenant = (tenant: TenantId): string => tenant;
    // @ts-expect-error a string is not a TenantId
    takesTenant('acme');
    // @ts-expect-error nor is a value typed string
    takesTenant(String('acme'));
    expect(takesTenant(parseTenantId('acme'))).toBe('acme');
  });
});
