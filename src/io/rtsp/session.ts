import { randomBytes } from 'node:crypto';
import type { RtspConn } from './conn.js';
import { InvalidSessionStateError } from './errors.js';
import type { Mount, StartInfo } from './mount.js';
import { Reader, type ReaderOptions, type ReaderSink } from './reader.js';

/** RFC 2326 Appendix A server states for a play-only server. */
export enum SessionState {
  /** Created by the first SETUP, before its transport is set. */
  Initial = 'Initial',
  /** Transport set up; not sending. */
  Ready = 'Ready',
  /** Sending RTP (after PLAY). */
  Playing = 'Playing',
}

export type SessionTransport =
  | { protocol: 'tcp'; channels: [number, number] }
  | { protocol: 'udp'; address: string; clientPorts: [number, number] };

/**
 * One RTSP session: the single video track of one mount, set up over TCP or UDP. A TCP session lives
 * and dies with its connection; a UDP one outlives it and expires without requests or RTCP.
 */
export class RtspSession {
  readonly id = randomBytes(8).toString('hex');
  state = SessionState.Initial;
  transport: SessionTransport | undefined;
  /** The SETUP request URL as sent: RTP-Info must repeat it verbatim (FFmpeg string-compares it). */
  setupUrl = '';
  /** Monotonic (performance.now): a stepped wall clock must not expire live sessions. */
  lastActivity = performance.now();
  private reader: Reader | undefined;
  private closed = false;

  constructor(
    readonly mount: Mount,
    /** The connection that created it; undefined once that connection is gone (UDP sessions only). */
    public conn: RtspConn | undefined,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  touch(): void {
    this.lastActivity = performance.now();
  }

  /** 455 unless the method is allowed in the current state (gortsplib ErrServerInvalidState). */
  assertState(method: string, allowed: readonly SessionState[]): void {
    if (!allowed.includes(this.state)) throw new InvalidSessionStateError(this.state, allowed, method);
  }

  setup(transport: SessionTransport, url: string): void {
    this.assertState('SETUP', [SessionState.Initial, SessionState.Ready]);
    this.transport = transport;
    this.setupUrl = url;
    this.state = SessionState.Ready;
  }

  /**
   * Starts sending to `sink`. Packets are held until the returned start() is called, after the PLAY
   * reply has been written, so nothing precedes the reply on a TCP socket.
   */
  play(sink: ReaderSink, opts: Omit<ReaderOptions, 'senderReport'>): { info: StartInfo; start: () => void } {
    this.assertState('PLAY', [SessionState.Ready, SessionState.Playing]);
    if (this.reader && !this.reader.isClosed) return { info: {}, start: () => {} };
    this.reader = new Reader(sink, { ...opts, senderReport: () => this.mount.senderReport() });
    const info = this.mount.attach(this.reader);
    this.state = SessionState.Playing;
    const reader = this.reader;
    return { info, start: () => reader.start() };
  }

  /** Whether this session's reader has been unable to send for timeoutMs. */
  stalled(now: number, timeoutMs: number): boolean {
    return this.reader?.stalled(now, timeoutMs) ?? false;
  }

  pause(): void {
    this.assertState('PAUSE', [SessionState.Ready, SessionState.Playing]);
    this.stopReader();
    this.state = SessionState.Ready;
  }

  /** Stops media; with bye the client is told via RTCP BYE. Idempotent. */
  close(bye = false): void {
    if (this.closed) return;
    this.closed = true;
    this.stopReader(bye);
    this.state = SessionState.Initial;
  }

  private stopReader(bye = false): void {
    if (!this.reader) return;
    this.mount.detach(this.reader);
    this.reader.close(bye ? this.mount.bye() : undefined);
    this.reader = undefined;
  }
}
