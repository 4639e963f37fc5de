import { PointRepository } from '@seismo/storage';
import fc from 'fast-check';
import { freshTenant, freshToken, pointRecord, TestStorage } from '../../storage/test/storage.harness';
import { bucketedWindow } from '../src/baseline';

let storage: TestStorage;
let points: PointRepository;
beforeAll(async () => {
  storage = await TestStorage.start();
  points = new PointRepository(storage.connection);
});
afterAll(async () => {
  await storage.stop();
});

const AT = Date.UTC(2031, 5, 1);

// The NAB evaluation shows the LLM what bucketedWindow makes of a file's rows; the alert
// path shows it what PointRepository.window reads from the stored points. They must agree.
it('makes of any points the window PointRepository.window reads from them once stored', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(fc.integer({ min: -1200, max: 50 }), { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 1, max: 40 }),
      async (offsets, buckets) => {
        const tenant = freshTenant();
        const rows = offsets.map((offset, i) => ({ ts: AT + offset * 1000, value: i * 1.5 - 20 }));
        await points.insertBatch(
          rows.map((row) => pointRecord(tenant, 'cpu', row.ts, { value: row.value })),
          freshToken('seismo.points'),
        );
        const sorted = [...rows].sort((a, b) => a.ts - b.ts);
        expect(await points.window(tenant, 'cpu', AT, 1_000_000, buckets)).toEqual(
          bucketedWindow(sorted, AT, 1_000_000, buckets),
        );
      },
    ),
    { numRuns: 40 },
  );
});
