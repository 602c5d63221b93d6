import { RtspParseError } from './errors.js';

/** Limits that keep one misbehaving client from making us buffer without end. */
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_BODY_BYTES = 64 * 1024;

export interface RtspRequest {
  method: string;
  /** Request-URI exactly as sent (absolute URL, path, or '*'). */
  url: string;
  /** Header names lower-cased (RTSP headers are case-insensitive); a repeated header keeps the last. */
  headers: Map<string, string>;
  body: Buffer;
}

export type RtspMessage =
  | { kind: 'request'; request: RtspRequest }
  /** `$` channel len16 payload (RFC 2326 §10.12): client RTCP after PLAY over TCP. */
  | { kind: 'interleaved'; channel: number; payload: Buffer };

const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');

/**
 * Incremental parser for the client→server byte stream of one connection. After PLAY over TCP the
 * same socket carries interleaved binary frames and RTSP requests (GET_PARAMETER, TEARDOWN), so every
 * message is told apart by its first byte: 0x24 ('$') starts a frame, anything else a request.
 * Throws RtspParseError when the stream cannot be RTSP; the caller then closes the connection.
 */
export class RtspParser {
  private buf: Buffer = Buffer.alloc(0);

  /** Bytes of a message begun but not complete yet. */
  get bufferedBytes(): number {
    return this.buf.length;
  }

  push(chunk: Buffer): RtspMessage[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: RtspMessage[] = [];
    for (;;) {
      // Stray line ends between messages are tolerated (some clients send CRLF keep-alives).
      let skip = 0;
      while (skip < this.buf.length && (this.buf[skip] === 0x0d || this.buf[skip] === 0x0a)) skip++;
      if (skip) this.buf = this.buf.subarray(skip);
      if (this.buf.length === 0) break;
      const msg = this.buf[0] === 0x24 ? this.takeInterleaved() : this.takeRequest();
      if (!msg) break;
      out.push(msg);
    }
    return out;
  }

  private takeInterleaved(): RtspMessage | undefined {
    if (this.buf.length < 4) return undefined;
    const len = this.buf.readUInt16BE(2);
    if (this.buf.length < 4 + len) return undefined;
    const msg: RtspMessage = { kind: 'interleaved', channel: this.buf[1]!, payload: Buffer.from(this.buf.subarray(4, 4 + len)) };
    this.buf = this.buf.subarray(4 + len);
    return msg;
  }

  private takeRequest(): RtspMessage | undefined {
    let end = this.buf.indexOf(CRLFCRLF);
    let sepLen = 4;
    const lf = this.buf.indexOf(LFLF);
    if (lf >= 0 && (end < 0 || lf < end)) {
      end = lf;
      sepLen = 2;
    }
    if (end < 0) {
      if (this.buf.length > MAX_HEADER_BYTES) throw new RtspParseError('request header too large');
      return undefined;
    }
    // Also when the whole oversized header came in one chunk.
    if (end > MAX_HEADER_BYTES) throw new RtspParseError('request header too large');
    const lines = this.buf.subarray(0, end).toString('latin1').split(/\r?\n/);
    const requestLine = lines.shift() ?? '';
    const m = /^([A-Za-z_]+) (\S+) RTSP\/1\.0$/.exec(requestLine.trim());
    if (!m) throw new RtspParseError(`not an RTSP request line: ${JSON.stringify(requestLine.slice(0, 80))}`);
    const headers = new Map<string, string>();
    let last: string | undefined;
    for (const line of lines) {
      if (/^[ \t]/.test(line) && last) {
        headers.set(last, `${headers.get(last) ?? ''} ${line.trim()}`); // obsolete line folding
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) throw new RtspParseError(`bad header line: ${JSON.stringify(line.slice(0, 80))}`);
      last = line.slice(0, colon).trim().toLowerCase();
      headers.set(last, line.slice(colon + 1).trim());
    }
    const lenText = headers.get('content-length') ?? '0';
    const bodyLen = /^\d+$/.test(lenText) ? Number(lenText) : NaN;
    if (!Number.isFinite(bodyLen) || bodyLen > MAX_BODY_BYTES) throw new RtspParseError(`bad Content-Length ${lenText}`);
    const start = end + sepLen;
    if (this.buf.length < start + bodyLen) return undefined;
    const body = Buffer.from(this.buf.subarray(start, start + bodyLen));
    this.buf = this.buf.subarray(start + bodyLen);
    return { kind: 'request', request: { method: m[1]!.toUpperCase(), url: m[2]!, headers, body } };
  }
}

const REASONS: Record<number, string> = {
  200: 'OK',
  302: 'Moved Temporarily',
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  453: 'Not Enough Bandwidth',
  454: 'Session Not Found',
  455: 'Method Not Valid in This State',
  459: 'Aggregate Operation Not Allowed',
  461: 'Unsupported Transport',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'RTSP Version Not Supported',
};

export interface RtspResponse {
  status: number;
  /** Ordered; a name may repeat (two WWW-Authenticate challenges). */
  headers: [string, string][];
  body?: string;
}

/** Serialise a response; CSeq goes first, verbatim as the client sent it (CSeq 0 included). */
export function serializeResponse(res: RtspResponse, cseq: string | undefined): Buffer {
  const body = res.body !== undefined ? Buffer.from(res.body, 'utf8') : undefined;
  const lines = [`RTSP/1.0 ${res.status} ${REASONS[res.status] ?? 'Unknown'}`];
  if (cseq !== undefined) lines.push(`CSeq: ${cseq}`);
  for (const [k, v] of res.headers) lines.push(`${k}: ${v}`);
  if (body) lines.push(`Content-Length: ${body.length}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  return body ? Buffer.concat([head, body]) : head;
}

/** `$` + channel + 16-bit length before each packet, all packets in one buffer (one socket write per AU). */
export function interleave(channel: number, packets: readonly Buffer[]): Buffer {
  let total = 0;
  for (const p of packets) total += 4 + p.length;
  const out = Buffer.allocUnsafe(total);
  let off = 0;
  for (const p of packets) {
    out[off] = 0x24;
    out[off + 1] = channel;
    out.writeUInt16BE(p.length, off + 2);
    p.copy(out, off + 4);
    off += 4 + p.length;
  }
  return out;
}
