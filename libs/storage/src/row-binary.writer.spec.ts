import { RowBinaryWriter } from './row-binary.writer';

describe('RowBinaryWriter', () => {
  it('writes strings as a LEB128 length and UTF-8 bytes, one byte of length up to 127', () => {
    const writer = new RowBinaryWriter(16);
    const short = 'é☃𝄞x'; // 2 + 3 + 4 + 1 bytes
    const edge = 'a'.repeat(127);
    const long = `${'é'.repeat(100)}z`; // 201 bytes: 0xc9 0x01
    for (const value of [short, '', edge, long]) writer.string(value);
    const bytes = writer.finish();

    const expected = Buffer.concat([
      Buffer.from([10]),
      Buffer.from(short),
      Buffer.from([0]),
      Buffer.from([127]),
      Buffer.from(edge),
      Buffer.from([0xc9, 0x01]),
      Buffer.from(long),
    ]);
    expect(bytes.equals(expected)).toBe(true);
  });

  it('writes a 42-unit string of 3-byte characters with a one-byte length', () => {
    const writer = new RowBinaryWriter(1);
    const value = '☃'.repeat(42); // 126 bytes, the most the short path can meet
    writer.string(value);
    expect(writer.finish().equals(Buffer.concat([Buffer.from([126]), Buffer.from(value)]))).toBe(true);
  });

  it('writes a repeated string as string writes it, each time, also across a growth of the buffer', () => {
    const values = ['acme', 'cpu{host="a"}', 'é☃𝄞x', 'a'.repeat(200), ''];
    const once = new RowBinaryWriter(1);
    const repeated = new RowBinaryWriter(1);
    for (let round = 0; round < 50; round++) {
      for (const value of values) {
        once.string(value);
        repeated.repeatedString(value);
      }
      once.uint8(round);
      repeated.uint8(round);
    }
    expect(repeated.byteLength).toBe(once.byteLength);
    expect(repeated.finish().equals(once.finish())).toBe(true);
  });

  it('writes numbers little-endian in their column widths', () => {
    const writer = new RowBinaryWriter(1);
    writer.float64(-0.1);
    writer.float32(0.5);
    writer.uint8(255);
    writer.uint16(65535);
    const bytes = writer.finish();
    expect(bytes.length).toBe(8 + 4 + 1 + 2);
    expect(bytes.readDoubleLE(0)).toBe(-0.1);
    expect(bytes.readFloatLE(8)).toBe(0.5);
    expect(bytes[12]).toBe(255);
    expect(bytes.readUInt16LE(13)).toBe(65535);
  });

  it.each([0, 1, -1, Date.UTC(1900, 0, 1), Date.UTC(2299, 11, 31, 23, 59, 59, 999), 2 ** 32, -(2 ** 32) - 1])(
    'writes the instant %d as the Int64 of its epoch milliseconds',
    (epochMs) => {
      const writer = new RowBinaryWriter(1);
      writer.dateTime64Millis(epochMs);
      expect(writer.finish().readBigInt64LE(0)).toBe(BigInt(epochMs));
    },
  );

  it('keeps what it wrote when it grows', () => {
    const writer = new RowBinaryWriter(16);
    for (let i = 0; i < 1000; i++) writer.uint16(i);
    const bytes = writer.finish();
    expect(writer.byteLength).toBe(2000);
    expect(Array.from({ length: 1000 }, (_, i) => bytes.readUInt16LE(i * 2))).toEqual(
      Array.from({ length: 1000 }, (_, i) => i),
    );
  });
});
