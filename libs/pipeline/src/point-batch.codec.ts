import { type PointBatch } from './point-batch';

/**
 * The bytes of a PointBatch in a Kafka message. One message carries many points (a
 * Node Kafka client tops out near 100k messages/s, so one message per point would cap
 * the system there), and the encoding is columnar so that encode and decode are a few
 * memcpys, not a parse per point:
 *
 *   u8 format (1) | u32 header length | header JSON {tenant, series: string[], count, rejected?} |
 *   padding to 8 | f64[count] t | f64[count] value | u32[count] series index
 *
 * `rejected` (the request's points refused at ingest, for metering) is optional in the
 * header and written only when non-zero, so messages written before it existed decode as
 * they did, with 0.
 *
 * Decoding checks everything it relies on and fails with a reason, because a malformed
 * message goes to the dead-letter topic with that reason instead of stopping its
 * partition.
 */
const FORMAT = 1;

export class PointBatchDecodeError extends Error {
  constructor(reason: string) {
    super(`point batch: ${reason}`);
    this.name = 'PointBatchDecodeError';
  }
}

export function encodePointBatch(batch: PointBatch): Buffer {
  const count = batch.t.length;
  if (batch.value.length !== count || batch.seriesIndex.length !== count) {
    throw new RangeError('point batch columns differ in length');
  }
  const rejected = batch.rejected ?? 0;
  if (!Number.isSafeInteger(rejected) || rejected < 0)
    throw new RangeError(`rejected must be a count, got ${rejected}`);
  const header = Buffer.from(
    JSON.stringify({
      tenant: batch.tenant,
      series: batch.series,
      count,
      ...(rejected > 0 ? { rejected } : {}),
    }),
    'utf8',
  );
  const body = align8(5 + header.length);
  const out = Buffer.alloc(body + count * 20);
  out.writeUInt8(FORMAT, 0);
  out.writeUInt32LE(header.length, 1);
  header.copy(out, 5);
  copyInto(out, body, batch.t);
  copyInto(out, body + count * 8, batch.value);
  copyInto(out, body + count * 16, batch.seriesIndex);
  return out;
}

export function decodePointBatch(bytes: Uint8Array): PointBatch {
  if (bytes.length < 5) throw new PointBatchDecodeError(`${bytes.length} bytes is shorter than the header`);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const format = buf.readUInt8(0);
  if (format !== FORMAT) throw new PointBatchDecodeError(`unknown format ${format}`);
  const headerLength = buf.readUInt32LE(1);
  if (5 + headerLength > buf.length) throw new PointBatchDecodeError('header runs past the end');
  let header: unknown;
  try {
    header = JSON.parse(buf.toString('utf8', 5, 5 + headerLength));
  } catch {
    throw new PointBatchDecodeError('header is not JSON');
  }
  const { tenant, series, count, rejected } = (header ?? {}) as {
    tenant?: unknown;
    series?: unknown;
    count?: unknown;
    rejected?: unknown;
  };
  if (typeof tenant !== 'string' || tenant === '')
    throw new PointBatchDecodeError('header.tenant is missing');
  if (!Array.isArray(series) || !series.every((s) => typeof s === 'string')) {
    throw new PointBatchDecodeError('header.series must be a list of strings');
  }
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    throw new PointBatchDecodeError('header.count must be a non-negative integer');
  }
  if (
    rejected !== undefined &&
    !(typeof rejected === 'number' && Number.isSafeInteger(rejected) && rejected >= 0)
  ) {
    throw new PointBatchDecodeError('header.rejected must be a non-negative integer');
  }
  const body = align8(5 + headerLength);
  if (buf.length !== body + count * 20) {
    throw new PointBatchDecodeError(`${buf.length} bytes, expected ${body + count * 20} for ${count} points`);
  }
  const t = new Float64Array(count);
  const value = new Float64Array(count);
  const seriesIndex = new Uint32Array(count);
  copyOut(buf, body, t);
  copyOut(buf, body + count * 8, value);
  copyOut(buf, body + count * 16, seriesIndex);
  for (let i = 0; i < count; i++) {
    if (seriesIndex[i] >= series.length) {
      throw new PointBatchDecodeError(`point ${i} names series ${seriesIndex[i]} of ${series.length}`);
    }
  }
  return {
    tenant,
    series: series as string[],
    t,
    value,
    seriesIndex,
    ...(typeof rejected === 'number' && rejected > 0 ? { rejected } : {}),
  };
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

function copyInto(out: Buffer, offset: number, array: Float64Array | Uint32Array): void {
  out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), offset);
}

function copyOut(buf: Buffer, offset: number, array: Float64Array | Uint32Array): void {
  new Uint8Array(array.buffer).set(buf.subarray(offset, offset + array.byteLength));
}
