import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AtomicFileWriter } from './atomic-file.writer';
import { IoError } from './io.error';

describe('AtomicFileWriter', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seismo-atomic-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function write(file: AtomicFileWriter, text: string): Promise<void> {
    await new Promise<void>((done) => file.stream.end(text, done));
  }

  it('shows nothing at the target until committed, then the whole file', async () => {
    const target = join(dir, 'out.csv');
    const file = await AtomicFileWriter.open(target);
    await write(file, 'a,b\n1,2\n');
    expect(await readdir(dir)).toEqual([expect.stringMatching(/^\.out\.csv\.[0-9a-f]+\.tmp$/)]);
    await file.commit();
    expect(await readdir(dir)).toEqual(['out.csv']);
    expect(await readFile(target, 'utf8')).toBe('a,b\n1,2\n');
  });

  it('replaces an earlier file only on commit', async () => {
    const target = join(dir, 'out.csv');
    await writeFile(target, 'earlier\n');
    const file = await AtomicFileWriter.open(target);
    await write(file, 'later\n');
    expect(await readFile(target, 'utf8')).toBe('earlier\n');
    await file.commit();
    expect(await readFile(target, 'utf8')).toBe('later\n');
  });

  it('removes the temporary file on abort and leaves an earlier file as it was, even after a write failed', async () => {
    const target = join(dir, 'out.csv');
    await writeFile(target, 'earlier\n');
    const file = await AtomicFileWriter.open(target);
    file.stream.write('half a fi');
    file.stream.on('error', () => {});
    file.stream.destroy(new Error('the disk is full'));
    await file.abort();
    expect(await readdir(dir)).toEqual(['out.csv']);
    expect(await readFile(target, 'utf8')).toBe('earlier\n');
  });

  it('fails at open, naming the target rather than the temporary file, when the directory is missing', async () => {
    const target = join(dir, 'missing', 'out.csv');
    const opening = AtomicFileWriter.open(target);
    await expect(opening).rejects.toThrow(IoError);
    await expect(opening).rejects.toThrow(`cannot write ${target}: ENOENT: no such file or directory`);
  });
});
