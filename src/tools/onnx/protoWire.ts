/*
 * Protocol Buffers wire format, read and written without a schema: enough to edit an ONNX file's few
 * fields we care about and copy every other byte through untouched. No onnx package can be installed here
 * (pip is unreachable) and protobufjs needs the full onnx.proto to re-encode without losing fields it does
 * not know; a field list keeps unknown fields by construction.
 */

export const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  Bytes = 2,
  Fixed32 = 5,
}

/** One field as it lies in the message: its number, wire type and raw payload (a varint's bytes, a
 *  length-delimited field's contents without its length, a fixed field's 4 or 8 bytes). */
export interface WireField {
  readonly num: number;
  readonly type: WireType;
  payload: Uint8Array;
}

function readVarint(buf: Uint8Array, at: number): { value: bigint; next: number } {
  let value = 0n;
  let shift = 0n;
  for (let i = at; i < buf.length; i++) {
    const b = buf[i]!;
    value |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
    shift += 7n;
    if (shift > 63n) break;
  }
  throw new Error(`protobuf: bad varint at byte ${at}`);
}

export function encodeVarint(value: bigint): Uint8Array {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? b | 0x80 : b);
  } while (v > 0n);
  return Uint8Array.from(out);
}

export function decodeVarint(payload: Uint8Array): bigint {
  return readVarint(payload, 0).value;
}

/** A message's fields in order; throws on a truncated or malformed message. */
export function parseMessage(buf: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let at = 0;
  while (at < buf.length) {
    const key = readVarint(buf, at);
    at = key.next;
    const num = Number(key.value >> 3n);
    const type = Number(key.value & 7n) as WireType;
    let end: number;
    let start = at;
    switch (type) {
      case WireType.Varint:
        end = readVarint(buf, at).next;
        break;
      case WireType.Fixed64:
        end = at + 8;
        break;
      case WireType.Fixed32:
        end = at + 4;
        break;
      case WireType.Bytes: {
        const len = readVarint(buf, at);
        start = len.next;
        end = start + Number(len.value);
        break;
      }
      default:
        throw new Error(`protobuf: wire type ${type as number} (field ${num}) is not supported`);
    }
    if (end > buf.length) throw new Error(`protobuf: field ${num} runs past the end of its message`);
    fields.push({ num, type, payload: buf.subarray(start, end) });
    at = end;
  }
  return fields;
}

export function serializeMessage(fields: readonly WireField[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of fields) {
    parts.push(encodeVarint((BigInt(f.num) << 3n) | BigInt(f.type)));
    if (f.type === WireType.Bytes) parts.push(encodeVarint(BigInt(f.payload.length)));
    parts.push(f.payload);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function stringField(f: WireField): string {
  return Buffer.from(f.payload).toString('utf8');
}

export function bytesField(num: number, payload: Uint8Array): WireField {
  return { num, type: WireType.Bytes, payload };
}

/** Rewrites every length-delimited field `num` of a message with `edit` (which gets and returns its contents). */
export function editSubmessages(buf: Uint8Array, num: number, edit: (sub: Uint8Array, index: number) => Uint8Array): Uint8Array {
  let index = 0;
  const fields = parseMessage(buf).map((f) => (f.num === num && f.type === WireType.Bytes ? { ...f, payload: edit(f.payload, index++) } : f));
  return serializeMessage(fields);
}
