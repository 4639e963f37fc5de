import { encodeJsonCompactRows } from './batch.encoder';

describe('encodeJsonCompactRows', () => {
  it('writes one JSON array per row, rows separated by commas or newlines', async () => {
    const payload = await encodeJsonCompactRows(
      [
        { a: 'x"y', b: 1.5 },
        { a: 'z', b: -2 },
      ],
      (r) => [r.a, r.b],
    );
    expect(payload.toString()).toBe('["x\\"y",1.5],["z",-2]');
  });

  it('yields to the event loop between chunks and keeps every row, in order', async () => {
    const rows = Array.from({ length: 2500 }, (_, i) => i);
    let immediateRan = false;
    setImmediate(() => {
      immediateRan = true;
    });
    let sawYield = false;
    const payload = await encodeJsonCompactRows(rows, (i) => {
      if (i === 2000) sawYield = immediateRan;
      return [i];
    });
    expect(sawYield).toBe(true);
    const decoded = JSON.parse(`[${payload.toString().replace(/\n/g, ',')}]`) as number[][];
    expect(decoded.map(([i]) => i)).toEqual(rows);
  });

  it('stops at the first row its tuple function rejects', async () => {
    await expect(
      encodeJsonCompactRows([1, 2, 3], (i) => {
        if (i === 2) throw new Error('row 2 is bad');
        return [i];
      }),
    ).rejects.toThrow('row 2 is bad');
  });

  it('encodes nothing for no rows', async () => {
    expect((await encodeJsonCompactRows([], () => [])).length).toBe(0);
  });
});
