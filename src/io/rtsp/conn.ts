import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from '../../log.js';
import { RtspParseError } from './errors.js';
import { RtspParser, serializeResponse, type RtspRequest, type RtspResponse } from './message.js';
import type { Session } from './session.js';

/** A reply plus what to do once it is written. */
export interface Reply extends RtspResponse {
  /** Runs right after the reply is on the socket (PLAY starts RTP here). */
  after?: () => void;
  /** Close the connection after this reply (wrong credentials). */
  close?: boolean;
}

export interface ConnHost {
  handleRequest(conn: RtspConn, req: RtspRequest): Promise<Reply>;
  onConnClosed(conn: RtspConn): void;
}

/**
 * One client TCP connection: parses requests and interleaved frames, answers requests strictly in
 * order (DESCRIBE may wait for the first keyframe), and owns the sessions set up over it.
 */
export class RtspConn {
  readonly id = randomBytes(4).toString('hex');
  readonly sessions = new Set<Session>();
  readonly remoteAddress: string;
  lastActivity = Date.now();
  private readonly parser = new RtspParser();
  private readonly pending: RtspRequest[] = [];
  private busy = false;
  private closed = false;
  private readonly log: Logger;

  constructor(
    readonly socket: Socket,
    private readonly host: ConnHost,
    logger: Logger,
  ) {
    this.remoteAddress = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    this.log = logger.child({ conn: this.id, peer: `${this.remoteAddress}:${socket.remotePort ?? 0}` });
    // RTP is written once per access unit; Nagle would only add latency (Go's default is no delay too).
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
    socket.on('close', () => this.onClose());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Channels taken by TCP sessions on this connection, so a SETUP without interleaved= gets a free pair. */
  usedChannels(): Set<number> {
    const used = new Set<number>();
    for (const s of this.sessions) {
      if (s.transport?.protocol === 'tcp') for (const c of s.transport.channels) used.add(c);
    }
    return used;
  }

  /** Ends the connection after pending writes (RTCP BYE, a reply) are flushed. */
  end(): void {
    if (!this.closed) this.socket.end();
  }

  /** Drops the connection now: the peer is stalled, waiting for a flush would never end. */
  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastActivity = Date.now();
    let messages;
    try {
      messages = this.parser.push(chunk);
    } catch (err) {
      const msg = err instanceof RtspParseError ? err.message : String(err);
      this.log.debug({ err: msg }, 'unparseable data, closing');
      this.socket.end(serializeResponse({ status: 400, headers: [] }, undefined));
      this.closed = true;
      return;
    }
    for (const m of messages) {
      if (m.kind === 'interleaved') {
        // Client RTCP receiver reports over TCP: they only prove the client is alive.
        for (const s of this.sessions) s.touch();
      } else {
        this.pending.push(m.request);
      }
    }
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.pending.length && !this.closed) {
        const req = this.pending.shift()!;
        let reply: Reply;
        try {
          reply = await this.host.handleRequest(this, req);
        } catch (err) {
          this.log.error({ err: err instanceof Error ? err.message : String(err), method: req.method }, 'request handler failed');
          reply = { status: 500, headers: [] };
        }
        if (this.closed) break;
        this.socket.write(serializeResponse(reply, req.headers.get('cseq')));
        reply.after?.();
        if (reply.close) {
          this.end();
          break;
        }
      }
    } finally {
      this.busy = false;
    }
  }

  private onClose(): void {
    this.closed = true;
    this.pending.length = 0;
    this.host.onConnClosed(this);
  }
}
