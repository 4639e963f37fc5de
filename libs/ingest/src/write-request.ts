import { parse, util } from 'protobufjs';

/**
 * Prometheus remote_write 1.0's `prometheus.WriteRequest` (prompb/remote.proto and
 * types.proto), the part of it ingest reads. Protobuf skips fields a schema does not
 * declare, so exemplars (TimeSeries 3) and metric metadata (WriteRequest 3) cost nothing.
 * Two fields are declared differently from upstream but read the same bytes:
 *
 * - `Sample.value` is `double` upstream, `fixed64` here: both are the same eight bytes on
 *   the wire, and only raw bits tell Prometheus' stale marker from any other NaN
 *   (ECMAScript leaves a NaN's bit pattern to the engine once it is a number).
 * - `TimeSeries.histograms` are messages upstream, `bytes` here (how a message looks on
 *   the wire): native histograms are not scored, only counted to be reported.
 */
const SCHEMA = `
syntax = "proto3";
package prometheus;

message WriteRequest {
  repeated TimeSeries timeseries = 1;
}

message TimeSeries {
  repeated Label labels = 1;
  repeated Sample samples = 2;
  repeated bytes histograms = 4;
}

message Label {
  string name = 1;
  string value = 2;
}

message Sample {
  fixed64 value = 1;
  int64 timestamp = 2;
}
`;

/** A 64-bit integer as protobufjs decodes it (a long.js `Long`): two 32-bit halves. */
export interface Int64Bits {
  readonly low: number;
  readonly high: number;
}

export interface WriteRequest {
  readonly timeseries: readonly TimeSeries[];
}

export interface TimeSeries {
  readonly labels: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  readonly samples: readonly Sample[];
  readonly histograms: readonly Uint8Array[];
}

export interface Sample {
  /** The bits of the sample's double; see `sampleValue` and `isStaleMarker`. */
  readonly value: Int64Bits;
  /** Epoch milliseconds; see `sampleTimestamp`. */
  readonly timestamp: Int64Bits;
}

// Without long.js protobufjs decodes 64-bit fields into doubles, losing the bits read above.
if (!util.Long)
  throw new Error('protobufjs found no long.js: remote_write samples cannot be decoded exactly');

const WRITE_REQUEST = parse(SCHEMA, { keepCase: true }).root.lookupType('prometheus.WriteRequest');

/** A WriteRequest from its (uncompressed) bytes; throws protobufjs' error on bytes that are not one. */
export function decodeWriteRequest(bytes: Uint8Array): WriteRequest {
  return WRITE_REQUEST.decode(bytes) as unknown as WriteRequest;
}

/** Prometheus' stale marker (`value.StaleNaN`): the series ended, this is no observation. */
const STALE_HIGH = 0x7ff00000;
const STALE_LOW = 0x00000002;

export function isStaleMarker(sample: Sample): boolean {
  return sample.value.high >>> 0 === STALE_HIGH && sample.value.low >>> 0 === STALE_LOW;
}

const bits = new DataView(new ArrayBuffer(8));

export function sampleValue(sample: Sample): number {
  bits.setUint32(0, sample.value.low >>> 0, true);
  bits.setUint32(4, sample.value.high >>> 0, true);
  return bits.getFloat64(0, true);
}

/** Exact below 2^53 ms (year 287396); beyond, the window refuses it anyway. */
export function sampleTimestamp(sample: Sample): number {
  return sample.timestamp.high * 2 ** 32 + (sample.timestamp.low >>> 0);
}
