import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from '../../log.js';
import { RtspParseError } from './errors.js';
import { RtspParser, serializeResponse, type RtspRequest, type RtspResponse } from './message.js';
import type { RtspSession } from './session.js';

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
 * After we end our side, how long the peer has to read what is queued and close its own. A peer that
 * never sends FIN (or never reads) would otherwise keep the socket, and its connection slot, forever.
 */
const END_GRACE_MS = 1000;

/**
 * One client TCP connection: parses requests and interleaved frames, answers requests strictly in
 * order (DESCRIBE may wait for the first keyframe), and owns the sessions set up over it.
 */
export class RtspConn {
  readonly id = randomBytes(4).toString('hex');
  readonly sessions = new Set<RtspSession>();
  readonly remoteAddress: string;
  /** Monotonic (performance.now): a stepped wall clock must not expire live sessions. */
  lastActivity = performance.now();
  private readonly parser = new RtspParser();
  private readonly pending: RtspRequest[] = [];
  private busy = false;
  private closed = false;
  /** The peer sent FIN: answer what it asked, then end our side. */
  private peerEnded = false;
  private readPaused = false;
  /** We ended (or refused) the connection: nothing more is read or answered. */
  private ending = false;
  private partialTimer: NodeJS.Timeout | undefined;
  private destroyTimer: NodeJS.Timeout | undefined;
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

  /** Ends the connection after pending writes (RTCP BYE, a reply) are flushed, or after END_GRACE_MS at most. */
  end(): void {
    if (this.closed || this.ending) return;
    this.ending = true;
    this.pending.length = 0;
    this.clearPartial();
    this.socket.end();
    this.destroyLater();
  }

  /** Drops the connection now: the peer is stalled, waiting for a flush would never end. */
  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed || this.ending) return;
    this.lastActivity = performance.now();
    let messages;
    try {
      messages = this.parser.push(chunk);
    } catch (err) {
      const msg = err instanceof RtspParseError ? err.message : String(err);
      this.log.debug({ err: msg }, 'unparseable data, closing');
      this.fail(400);
      return;
    }
    this.trackPartial(messages.length > 0);
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
      // The rest of a request begun here waits on us now, not on the client.
      this.clearPartial();
    }
    this.drain().catch((err: unknown) => {
      // A bug, not the peer's doing: this connection cannot go on, the process must.
      this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'connection failed, closing');
      this.destroy();
    });
  }

  /**
   * Keeps the deadline of the one message in progress: armed at its first byte, disarmed when it
   * completes. A chunk that completes a message and begins the next one starts a new deadline, so a
   * pipelining client whose writes end mid-request is not timed from its first byte on.
   */
  private trackPartial(completedOne: boolean): void {
    if (completedOne || this.parser.bufferedBytes === 0) this.clearPartial();
    if (this.parser.bufferedBytes === 0 || this.partialTimer || this.readPaused) return;
    this.partialTimer = setTimeout(() => {
      this.partialTimer = undefined;
      if (this.closed) return;
      this.log.info({ timeoutMs: this.limits.requestTimeoutMs, buffered: this.parser.bufferedBytes }, 'request not completed in time, closing');
      this.fail(408);
    }, this.limits.requestTimeoutMs);
    this.partialTimer.unref();
  }

  private clearPartial(): void {
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.partialTimer = undefined;
  }

  /** Refuses the byte stream: one reply without CSeq (we have no request to echo), then close. */
  private fail(status: number): void {
    this.closed = true;
    this.pending.length = 0;
    this.clearPartial();
    this.socket.end(serializeResponse({ status, headers: [] }, undefined));
    this.destroyLater();
  }

  /** A peer that does not read, or never closes its side, would keep the socket with our FIN queued. */
  private destroyLater(): void {
    if (this.destroyTimer) return;
    this.destroyTimer = setTimeout(() => this.socket.destroy(), END_GRACE_MS);
    this.destroyTimer.unref();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.pending.length && !this.closed && !this.ending && !this.socket.destroyed) {
        const req = this.pending.shift()!;
        if (this.readPaused && this.pending.length < MAX_PIPELINED / 2) {
          this.readPaused = false;
          this.socket.resume();
          // Bytes of a request that came before we paused get a full deadline again.
          this.trackPartial(false);
        }
        let reply: Reply;
        try {
          reply = await this.host.handleRequest(this, req);
        } catch (err) {
          this.log.error({ err: err instanceof Error ? err.message : String(err), method: req.method }, 'request handler failed');
          reply = { status: 500, headers: [] };
        }
        if (this.closed || this.ending) break;
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
    if (this.peerEnded && this.pending.length === 0) this.end();
  }

  /**
   * Resolves once the socket takes writes again, or can never (error, close); never rejects. Not
   * events.once: it rejects on 'error' whatever the event, and a race of two leaves the loser's
   * listeners on the socket after every wait.
   */
  private writable(): Promise<void> {
    const socket = this.socket;
    if (this.closed || socket.destroyed || !socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        socket.off('error', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
      socket.on('error', done);
    });
  }

  private onEnd(): void {
    this.peerEnded = true;
    if (!this.busy && this.pending.length === 0) this.end();
  }

  private onClose(): void {
    this.closed = true;
    this.pending.length = 0;
    this.clearPartial();
    if (this.destroyTimer) clearTimeout(this.destroyTimer);
    this.destroyTimer = undefined;
    this.host.onConnClosed(this);
  }
}
