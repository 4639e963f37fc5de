import { type DetectorSnapshot, type Params, type StateArray } from './detector';
import { DetectorError, DetectorErrorCode } from './errors';

/**
 * Binary form of a snapshot, for checkpoints: a small JSON header describing each
 * array, then the arrays' bytes, each 8-byte aligned. Typed arrays are copied as they
 * are (little-endian on every platform Node runs on), so encode and decode cost one
 * memcpy per array, not a number-by-number conversion.
 */
const MAGIC = 0x5344_4d53; // 'SMDS'
const FORMAT = 1;

const ARRAY_TYPES = {
  f64: Float64Array,
  f32: Float32Array,
  i32: Int32Array,
  u32: Uint32Array,
  u16: Uint16Array,
  u8: Uint8Array,
} as const;
type ArrayTag = keyof typeof ARRAY_TYPES;

interface ArrayEntry {
  name: string;
  type: ArrayTag;
  offset: number;
  length: number;
}
interface Header {
  kind: string;
  version: number;
  params: Params;
  arrays: ArrayEntry[];
  children?: Record<string, Header>;
}

export function encodeSnapshot(snapshot: DetectorSnapshot): Uint8Array {
  const arrays: StateArray[] = [];
  let size = 0;
  const describe = (s: DetectorSnapshot): Header => {
    const entries: ArrayEntry[] = [];
    for (const [name, array] of Object.entries(s.state)) {
      entries.push({ name, type: tagOf(array), offset: size, length: array.length });
      arrays.push(array);
      size += align8(array.byteLength);
    }
    const header: Header = { kind: s.kind, version: s.version, params: s.params, arrays: entries };
    if (s.children) {
      header.children = {};
      for (const [role, child] of Object.entries(s.children)) header.children[role] = describe(child);
    }
    return header;
  };
  const headerBytes = Buffer.from(JSON.stringify(describe(snapshot)), 'utf8');
  const bodyStart = align8(12 + headerBytes.length);
  const out = new Uint8Array(bodyStart + size);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, FORMAT, true);
  view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  let offset = bodyStart;
  for (const array of arrays) {
    out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), offset);
    offset += align8(array.byteLength);
  }
  return out;
}

export function decodeSnapshot(bytes: Uint8Array): DetectorSnapshot {
  if (bytes.length < 12) throw corrupt('shorter than its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw corrupt('not a Seismo detector snapshot');
  const format = view.getUint32(4, true);
  if (format !== FORMAT) {
    throw new DetectorError(
      DetectorErrorCode.UNSUPPORTED_SNAPSHOT,
      `snapshot encoding format ${format} is not supported`,
    );
  }
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw corrupt('header runs past the end');
  let header: Header;
  try {
    header = JSON.parse(
      Buffer.from(bytes.buffer, bytes.byteOffset + 12, headerLength).toString('utf8'),
    ) as Header;
  } catch {
    throw corrupt('header is not valid JSON');
  }
  const bodyStart = align8(12 + headerLength);
  const build = (h: Header): DetectorSnapshot => {
    const state: Record<string, StateArray> = {};
    for (const e of h.arrays) {
      const Ctor = ARRAY_TYPES[e.type];
      if (!Ctor) throw corrupt(`array '${e.name}' has unknown type '${e.type}'`);
      const start = bodyStart + e.offset;
      const byteLength = e.length * Ctor.BYTES_PER_ELEMENT;
      if (start + byteLength > bytes.length) throw corrupt(`array '${e.name}' runs past the end`);
      // Copy into a fresh, aligned buffer: the source may sit at any offset of a larger one.
      const copy = new Uint8Array(byteLength);
      copy.set(bytes.subarray(start, start + byteLength));
      state[e.name] = new Ctor(copy.buffer);
    }
    const children = h.children
      ? Object.fromEntries(Object.entries(h.children).map(([role, c]) => [role, build(c)]))
      : undefined;
    return { kind: h.kind, version: h.version, params: h.params, state, ...(children ? { children } : {}) };
  };
  return build(header);
}

function tagOf(array: StateArray): ArrayTag {
  for (const [tag, Ctor] of Object.entries(ARRAY_TYPES)) {
    if (array instanceof Ctor) return tag as ArrayTag;
  }
  throw new DetectorError(DetectorErrorCode.CORRUPT_SNAPSHOT, 'snapshot holds an unsupported array type');
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

function corrupt(why: string): DetectorError {
  return new DetectorError(DetectorErrorCode.CORRUPT_SNAPSHOT, `snapshot bytes: ${why}`);
}
