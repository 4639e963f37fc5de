/**
 * Builds a ClickHouse RowBinary payload: each row's values back to back, little-endian,
 * strings as a LEB128 length and their UTF-8 bytes. Nothing is formatted as text, so the
 * engine's main thread writes a point in a fraction of what JSON costs it, and ClickHouse
 * reads it without parsing numbers (measured on 1M point rows through chdb: 3.6 CPU
 * seconds as JSONCompactEachRow, 1.5 as RowBinary).
 *
 * The buffer grows by doubling; `finish` returns a view of what was written.
 */
export class RowBinaryWriter {
  private buffer: Buffer;
  private offset = 0;
  /** Where `repeatedString` wrote each string first: its offset times 2^16 plus its byte count (at most 3 x 16384 + 3). */
  private readonly written = new Map<string, number>();

  constructor(initialBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(Math.max(16, initialBytes));
  }

  /** A `String` (also `LowCardinality(String)`): the UTF-8 bytes and their count before them. */
  string(value: string): void {
    // Fewer than 43 UTF-16 units are at most 126 UTF-8 bytes (3 per unit), so the length
    // fits the one-byte varint: the bytes are written first and the length after.
    if (value.length < 43) {
      this.reserve(1 + value.length * 3);
      const bytes = this.buffer.write(value, this.offset + 1, 'utf8');
      this.buffer[this.offset] = bytes;
      this.offset += 1 + bytes;
      return;
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    this.reserve(5 + bytes);
    this.varint(bytes);
    this.offset += this.buffer.write(value, this.offset, 'utf8');
  }

  /**
   * A `String` a payload holds many times (a tenant, a series name): written once as
   * `string` writes it, and copied from there each later time, which costs a fraction of
   * encoding it again. A string of more than 16384 characters is encoded anew each time
   * (its offset and byte count would not pack into one number).
   */
  repeatedString(value: string): void {
    const at = this.written.get(value);
    if (at === undefined) {
      const start = this.offset;
      this.string(value);
      if (value.length <= 16_384) this.written.set(value, start * 0x1_0000 + (this.offset - start));
      return;
    }
    const length = at % 0x1_0000;
    const start = (at - length) / 0x1_0000;
    this.reserve(length);
    this.buffer.copyWithin(this.offset, start, start + length);
    this.offset += length;
  }

  float64(value: number): void {
    this.reserve(8);
    this.offset = this.buffer.writeDoubleLE(value, this.offset);
  }

  float32(value: number): void {
    this.reserve(4);
    this.offset = this.buffer.writeFloatLE(value, this.offset);
  }

  uint8(value: number): void {
    this.reserve(1);
    this.buffer[this.offset++] = value;
  }

  uint16(value: number): void {
    this.reserve(2);
    this.offset = this.buffer.writeUInt16LE(value, this.offset);
  }

  /** A `DateTime64(3)`: epoch milliseconds as an Int64. */
  dateTime64Millis(epochMs: number): void {
    this.reserve(8);
    // Two 32-bit halves: exact for every safe integer, and no BigInt on the hot path.
    const high = Math.floor(epochMs / 0x1_0000_0000);
    this.buffer.writeUInt32LE(epochMs - high * 0x1_0000_0000, this.offset);
    this.buffer.writeInt32LE(high, this.offset + 4);
    this.offset += 8;
  }

  get byteLength(): number {
    return this.offset;
  }

  /** The payload: a view of the bytes written, valid until the writer is used again. */
  finish(): Buffer {
    return this.buffer.subarray(0, this.offset);
  }

  private varint(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.offset++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.buffer[this.offset++] = rest;
  }

  private reserve(bytes: number): void {
    if (this.offset + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.offset + bytes) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.offset);
    this.buffer = grown;
  }
}
