import fc from 'fast-check';
import { PointBatchBuilder } from './point-batch';
import { decodePointBatch, encodePointBatch, PointBatchDecodeError } from './point-batch.codec';

describe('point batch codec', () => {
  it('round-trips any batch exactly', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.array(
          fc.tuple(fc.constantFrom('cpu', 'mem{host="a"}', 'lat{"ü"="x"}'), fc.integer(), fc.double()),
          {
            maxLength: 200,
          },
        ),
        (tenant, points) => {
          const builder = new PointBatchBuilder(tenant);
          for (const [series, t, value] of points) builder.add(series, t, value);
          const batch = builder.build();
          const decoded = decodePointBatch(encodePointBatch(batch));
          expect(decoded.tenant).toBe(tenant);
          expect(decoded.series).toEqual(batch.series);
          expect(Array.from(decoded.t)).toEqual(Array.from(batch.t));
          expect(Array.from(decoded.value)).toEqual(Array.from(batch.value));
          expect(Array.from(decoded.seriesIndex)).toEqual(Array.from(batch.seriesIndex));
        },
      ),
    );
  });

  it('keeps each series name once, however many points it has', () => {
    const builder = new PointBatchBuilder('acme');
    for (let i = 0; i < 1000; i++) builder.add(i % 2 ? 'a' : 'b', i, i);
    const bytes = encodePointBatch(builder.build());
    expect(decodePointBatch(bytes).series).toEqual(['b', 'a']);
    expect(bytes.length).toBeLessThan(1000 * 20 + 100);
  });

  it('carries the count of points refused at ingest, and reads 0 from messages without one', () => {
    const builder = new PointBatchBuilder('acme');
    builder.add('cpu', 1, 1);
    expect(decodePointBatch(encodePointBatch(builder.build(3))).rejected).toBe(3);
    // A batch of refusals only: no point, the count still travels.
    expect(decodePointBatch(encodePointBatch(new PointBatchBuilder('acme').build(5))).rejected).toBe(5);
    // What a producer wrote before the field existed (and what one writes for 0): no `rejected`.
    const plain = encodePointBatch(builder.build());
    expect(plain.toString('utf8')).not.toContain('rejected');
    expect(decodePointBatch(plain).rejected ?? 0).toBe(0);
  });

  it('refuses a header whose rejected count is not a count', () => {
    const header = Buffer.from(JSON.stringify({ tenant: 'acme', series: [], count: 0, rejected: -1 }));
    const bytes = Buffer.alloc((5 + header.length + 7) & ~7);
    bytes.writeUInt8(1, 0);
    bytes.writeUInt32LE(header.length, 1);
    header.copy(bytes, 5);
    expect(() => decodePointBatch(bytes)).toThrow(/header.rejected must be a non-negative integer/);
  });

  it('refuses malformed bytes with a reason instead of returning garbage', () => {
    const good = encodePointBatch(Object.assign(new PointBatchBuilder('acme'), {}).build());
    const cases: Array<[Uint8Array, RegExp]> = [
      [Buffer.from([1, 2]), /shorter than the header/],
      [Buffer.from([9, 0, 0, 0, 0]), /unknown format 9/],
      [Buffer.concat([good, Buffer.alloc(8)]), /expected/],
    ];
    const badIndex = new PointBatchBuilder('acme');
    badIndex.add('cpu', 1, 1);
    const bytes = encodePointBatch(badIndex.build());
    bytes.writeUInt32LE(7, bytes.length - 4);
    cases.push([bytes, /names series 7 of 1/]);
    const noJson = Buffer.from(good);
    noJson.write('!', 5);
    cases.push([noJson, /not JSON/]);
    for (const [input, reason] of cases) {
      expect(() => decodePointBatch(input)).toThrow(PointBatchDecodeError);
      expect(() => decodePointBatch(input)).toThrow(reason);
    }
  });
});
