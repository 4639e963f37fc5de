import { parseTenantId } from '@seismo/storage';
import { TestStorage } from '../../storage/test/storage.harness';
import { ProfileRepository } from '../src/profile.repository';

let storage: TestStorage;
let profiles: ProfileRepository;
beforeAll(async () => {
  storage = await TestStorage.start();
  profiles = new ProfileRepository(storage.connection);
});
afterAll(async () => {
  await storage.stop();
});

describe('ProfileRepository (real embedded ClickHouse)', () => {
  it("reads back a pattern's newest profile, only in its tenant", async () => {
    const acme = parseTenantId('profiles-acme');
    const globex = parseTenantId('profiles-globex');
    const pattern = 'errors_rate{host=web-#}';
    const t0 = Date.UTC(2031, 0, 1);
    await profiles.write(
      acme,
      pattern,
      { kind: 'other', direction: 'both', seasonality: 'none', unit: '' },
      'm1',
      t0,
    );
    await profiles.write(
      acme,
      pattern,
      { kind: 'error_rate', direction: 'up', seasonality: 'daily', unit: '%' },
      'm2',
      t0 + 1,
    );
    expect(await profiles.read(acme, pattern)).toEqual({
      kind: 'error_rate',
      direction: 'up',
      seasonality: 'daily',
      unit: '%',
    });
    expect(await profiles.read(globex, pattern)).toBeUndefined();
    expect(await profiles.read(acme, 'errors_rate{host=db-#}')).toBeUndefined();
  });
});
