import net from 'node:net';

export interface RawResponse {
  status: number;
  /** Lower-cased names; repeated headers joined with '\n'. */
  headers: Record<string, string>;
  body: string;
  raw: string;
}

export interface RawFrame {
  channel: number;
  payload: Buffer;
}

/**
 * A deliberately dumb RTSP client for protocol tests: writes exactly what it is told, parses responses
 * and interleaved frames independently of the server's parser, and records the order they came in.
 */
export class RawRtspClient {
  readonly frames: RawFrame[] = [];
  /** 'R' for a response, channel number for a frame, in arrival order. */
  readonly order: (string | number)[] = [];
  closed = false;
  private buf = Buffer.alloc(0);
  private readonly responses: RawResponse[] = [];
  private waiter: (() => void) | undefined;
  private cseq = 0;
  onFrame: ((f: RawFrame) => void) | undefined;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => {});
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<RawRtspClient> {
    const s = net.connect(port, host);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('error', reject);
    });
    return new RawRtspClient(s);
  }

  /** Sends a request with the next CSeq (unless headers set CSeq, or it is null to omit it) and waits for the reply. */
  async request(method: string, url: string, headers: Record<string, string | null> = {}): Promise<RawResponse> {
    const lines = [`${method} ${url} RTSP/1.0`];
    if (!('CSeq' in headers)) lines.push(`CSeq: ${++this.cseq}`);
    for (const [k, v] of Object.entries(headers)) if (v !== null) lines.push(`${k}: ${v}`);
    this.socket.write(lines.join('\r\n') + '\r\n\r\n');
    return this.nextResponse();
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  async nextResponse(timeoutMs = 10_000): Promise<RawResponse> {
    const end = Date.now() + timeoutMs;
    while (this.responses.length === 0) {
      if (this.closed) throw new Error('connection closed before a response');
      if (Date.now() > end) throw new Error('no response in time');
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 50);
      });
    }
    return this.responses.shift()!;
  }

  /** The next `n` responses, in order (each may take up to `timeoutMs`). */
  async nextResponses(n: number, timeoutMs = 20_000): Promise<RawResponse[]> {
    const out: RawResponse[] = [];
    for (let i = 0; i < n; i++) out.push(await this.nextResponse(timeoutMs));
    return out;
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length === 0) break;
      if (this.buf[0] === 0x24) {
        if (this.buf.length < 4) break;
        const len = this.buf.readUInt16BE(2);
        if (this.buf.length < 4 + len) break;
        const f = { channel: this.buf[1]!, payload: Buffer.from(this.buf.subarray(4, 4 + len)) };
        this.buf = this.buf.subarray(4 + len);
        this.frames.push(f);
        this.order.push(f.channel);
        this.onFrame?.(f);
        continue;
      }
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) break;
      const head = this.buf.subarray(0, end).toString('latin1');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        const k = l.slice(0, i).trim().toLowerCase();
        const v = l.slice(i + 1).trim();
        headers[k] = headers[k] !== undefined ? `${headers[k]}\n${v}` : v;
      }
      const len = Number(headers['content-length'] ?? 0);
      if (this.buf.length < end + 4 + len) break;
      const body = this.buf.subarray(end + 4, end + 4 + len).toString('utf8');
      const raw = this.buf.subarray(0, end + 4 + len).toString('latin1');
      this.buf = this.buf.subarray(end + 4 + len);
      this.responses.push({ status: Number(/^RTSP\/1\.0 (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0), headers, body, raw });
      this.order.push('R');
      this.waiter?.();
    }
  }
}

/** Session id from a Session header (`id;timeout=N`). */
export function sessionId(res: RawResponse): string {
  return (res.headers.session ?? '').split(';')[0]!;
}

/** Parsed RTP fields of a packet. */
export function rtpInfo(p: Buffer): { marker: boolean; pt: number; seq: number; ts: number; ssrc: number; payload: Buffer } {
  return { marker: (p[1]! & 0x80) !== 0, pt: p[1]! & 0x7f, seq: p.readUInt16BE(2), ts: p.readUInt32BE(4), ssrc: p.readUInt32BE(8), payload: p.subarray(12) };
}
