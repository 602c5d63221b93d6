import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
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

export interface ConnLimits {
  /**
   * A request (or interleaved frame) must arrive complete within this long of its first byte. Unlike
   * an idle timer, trickled bytes do not extend it (Node http's headersTimeout; slowloris).
   */
  requestTimeoutMs: number;
}

/**
 * Requests parsed but not yet answered before we stop reading the socket. A client that pipelines
 * without reading replies then fills its own send buffer instead of our memory.
 */
const MAX_PIPELINED = 32;

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
  /** The peer sent FIN: answer what it asked, then end our side. */
  private peerEnded = false;
  private readPaused = false;
  private partialTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    readonly socket: Socket,
    private readonly host: ConnHost,
    logger: Logger,
    private readonly limits: ConnLimits,
  ) {
    this.remoteAddress = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    this.log = logger.child({ conn: this.id, peer: `${this.remoteAddress}:${socket.remotePort ?? 0}` });
    // RTP is written once per access unit; Nagle would only add latency (Go's default is no delay too).
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
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
      this.fail(400);
      return;
    }
    this.trackPartial();
    for (const m of messages) {
      if (m.kind === 'interleaved') {
        // Client RTCP receiver reports over TCP: they only prove the client is alive.
        for (const s of this.sessions) s.touch();
      } else {
        this.pending.push(m.request);
      }
    }
    if (this.pending.length >= MAX_PIPELINED && !this.readPaused) {
      this.readPaused = true;
      this.socket.pause();
    }
    void this.drain();
  }

  /** Arms the request deadline at the first byte of an incomplete message; a complete one disarms it. */
  private trackPartial(): void {
    if (this.parser.bufferedBytes === 0) {
      if (this.partialTimer) clearTimeout(this.partialTimer);
      this.partialTimer = undefined;
      return;
    }
    if (this.partialTimer) return;
    this.partialTimer = setTimeout(() => {
      this.partialTimer = undefined;
      if (this.closed) return;
      this.log.info({ timeoutMs: this.limits.requestTimeoutMs, buffered: this.parser.bufferedBytes }, 'request not completed in time, closing');
      this.fail(408);
    }, this.limits.requestTimeoutMs);
    this.partialTimer.unref();
  }

  /** Refuses the byte stream: one reply without CSeq (we have no request to echo), then close. */
  private fail(status: number): void {
    this.closed = true;
    this.pending.length = 0;
    this.socket.end(serializeResponse({ status, headers: [] }, undefined));
    // A peer that does not read would keep the socket in FIN_WAIT with our reply queued.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.pending.length && !this.closed) {
        const req = this.pending.shift()!;
        if (this.readPaused && this.pending.length < MAX_PIPELINED / 2) {
          this.readPaused = false;
          this.socket.resume();
        }
        let reply: Reply;
        try {
          reply = await this.host.handleRequest(this, req);
        } catch (err) {
          this.log.error({ err: err instanceof Error ? err.message : String(err), method: req.method }, 'request handler failed');
          reply = { status: 500, headers: [] };
        }
        if (this.closed) break;
        const flushed = this.socket.write(serializeResponse(reply, req.headers.get('cseq')));
        reply.after?.();
        if (reply.close) {
          this.end();
          break;
        }
        // Replies to a client that does not read them wait in its socket, not in our memory.
        if (!flushed && this.pending.length) await this.writable();
      }
    } finally {
      this.busy = false;
    }
    if (this.peerEnded && !this.closed && this.pending.length === 0) this.socket.end();
  }

  private async writable(): Promise<void> {
    if (this.closed || !this.socket.writableNeedDrain) return;
    await Promise.race([once(this.socket, 'drain'), once(this.socket, 'close')]);
  }

  private onEnd(): void {
    this.peerEnded = true;
    if (!this.busy && this.pending.length === 0 && !this.closed) this.socket.end();
  }

  private onClose(): void {
    this.closed = true;
    this.pending.length = 0;
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.partialTimer = undefined;
    this.host.onConnClosed(this);
  }
}
