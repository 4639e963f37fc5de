import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type ChdbBatchWriter } from '../src/chdb-batch.writer';
import { PointRepository } from '../src/point.repository';
import { freshTenant, freshToken, pointRecord, TestStorage } from './storage.harness';

const T0 = Date.UTC(2031, 0, 1);

describe('ChdbBatchWriter spool', () => {
  it("keeps no payload once written, clears a dead process's spool, and removes its own on close", async () => {
    const storage = await TestStorage.start();
    const writer = storage.connection.writer as ChdbBatchWriter;
    const points = new PointRepository(storage.connection);
    const write = () =>
      points.insertBatch([pointRecord(freshTenant(), 'cpu', T0)], freshToken('seismo.points'));
    let live: string | undefined;
    try {
      await write();
      const first = writer.spoolDirectory!;
      expect(readdirSync(first)).toEqual([]);
      writer.close();
      expect(existsSync(first)).toBe(false);

      // A process that is gone (it ran and exited) left its spool with a payload in it.
      const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
      const stale = join(dirname(first), `seismo-insert-${dead}-abcdef`);
      mkdirSync(stale);
      writeFileSync(join(stale, '1.bin'), Buffer.alloc(1024));
      live = join(dirname(first), `seismo-insert-${process.pid}-other`);
      mkdirSync(live);

      // The next write opens a spool again, and clears what the dead process left.
      await write();
      const second = writer.spoolDirectory!;
      expect(second).not.toBe(first);
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(live)).toBe(true); // a live process's, left alone
      expect(readdirSync(second)).toEqual([]);
      writer.close();
      expect(existsSync(second)).toBe(false);
    } finally {
      if (live) rmSync(live, { recursive: true, force: true });
      await storage.stop();
    }
  });
});
