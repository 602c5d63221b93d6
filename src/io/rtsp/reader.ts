import type dgram from 'node:dgram';
import type { Socket } from 'node:net';
import { interleave } from './message.js';
import { MAX_PAYLOAD } from './types.js';

/** Where one reader's packets go: interleaved on its RTSP socket, or UDP datagrams. */
export interface ReaderSink {
  /** Sends packets; calls done once they have left this process (handed to the kernel). */
  writeRtp(packets: Buffer[], done: () => void): void;
  writeRtcp(packet: Buffer): void;
  /** Bytes written but not yet taken by the kernel. */
  backlogBytes(): number;
}

/** RTP on the even channel, RTCP on the next one: RTCP on the wrong channel made clients time out (gortsplib 213eb490). */
export function tcpSink(socket: Socket, channels: [number, number]): ReaderSink {
  return {
    // One write per access unit (go2rtc): fewer syscalls, and with setNoDelay no Nagle delay.
    writeRtp: (packets, done) => void socket.write(interleave(channels[0], packets), () => done()),
    writeRtcp: (packet) => void socket.write(interleave(channels[1], [packet])),
    // What the kernel took leaves writableLength at once, so a client that keeps up shows ~0 here.
    backlogBytes: () => socket.writableLength,
  };
}

/** From the shared server pair to the RTSP peer's ports (never a `destination=`: no reflection attacks). */
export function udpSink(rtp: dgram.Socket, rtcp: dgram.Socket, address: string, ports: [number, number]): ReaderSink {
  let backlog = 0;
  return {
    writeRtp(packets, done) {
      let left = packets.length;
      for (const p of packets) {
        backlog += p.length;
        rtp.send(p, ports[0], address, () => {
          backlog -= p.length;
          if (--left === 0) done();
        });
      }
    },
    writeRtcp: (packet) => rtcp.send(packet, ports[1], address),
    backlogBytes: () => backlog,
  };
}

/** Bytes one queued packet takes on a TCP socket: `$` header, RTP header, full payload. */
export const PACKET_BYTES = 4 + 12 + MAX_PAYLOAD;

export interface ReaderOptions {
  /** Queue bound in full-size packets; a reader still holding more than this when an AU comes is dropped. */
  queueSize: number;
  /** The stream's current SR, undefined before its first packet. */
  senderReport: () => Buffer | undefined;
  srIntervalMs: number;
  /** Called once, asynchronously, when the queue overflows; the owner tears the session down. */
  onDrop: (reason: string) => void;
}

const sizeOf = (packets: readonly Buffer[]): number => packets.reduce((n, p) => n + p.length, 0);

/**
 * One playing reader's outbound queue. The publisher never waits on it: packets go to the socket at
 * once, and the queue is what the kernel has not taken yet. A reader whose queue still exceeds
 * queueSize packets' worth of bytes when the next access unit comes is stalled (SIGSTOPped client,
 * dead link) and is dropped alone, as gortsplib errors a reader whose ring buffer is full. Checking
 * before adding means a single huge IDR never drops anyone by itself. The GOP burst on join is not
 * counted: it is bounded by the cache and would otherwise drop late readers of high-bitrate streams.
 * Before start() (PLAY reply not yet written) packets are held, so no RTP precedes the reply.
 */
export class Reader {
  private held: { packets: Buffer[]; burst: boolean }[] | undefined = [];
  private heldLiveBytes = 0;
  private burstBytesPending = 0;
  private srTimer: NodeJS.Timeout | undefined;
  private backlogSince: number | undefined;
  private closed = false;
  private readonly limitBytes: number;

  constructor(
    private readonly sink: ReaderSink,
    private readonly opts: ReaderOptions,
  ) {
    this.limitBytes = opts.queueSize * PACKET_BYTES;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Live bytes queued for this reader (the burst excluded). */
  get backlogBytes(): number {
    return this.held ? this.heldLiveBytes : Math.max(0, this.sink.backlogBytes() - this.burstBytesPending);
  }

  /** Queue one access unit's packets (or the GOP burst). Returns false if this reader was just dropped. */
  push(packets: Buffer[], burst = false): boolean {
    if (this.closed) return false;
    if (packets.length === 0) return true;
    if (!burst && this.backlogBytes > this.limitBytes) {
      const backlog = this.backlogBytes;
      this.close();
      setImmediate(() => this.opts.onDrop(`write queue full (${backlog} bytes pending)`));
      return false;
    }
    if (this.held) {
      this.held.push({ packets, burst });
      if (!burst) this.heldLiveBytes += sizeOf(packets);
      return true;
    }
    this.write(packets, burst);
    return true;
  }

  /**
   * Polled by the server: true once the backlog has not emptied for timeoutMs, like gortsplib's
   * WriteTimeout. Catches a stalled reader when too little is written to overflow its queue (a
   * low-bitrate or paused source), and a reader that drains, but slower than the stream.
   */
  stalled(now: number, timeoutMs: number): boolean {
    if (this.closed || this.backlogBytes === 0) {
      this.backlogSince = undefined;
      return false;
    }
    this.backlogSince ??= now;
    return now - this.backlogSince > timeoutMs;
  }

  /** The PLAY reply is out: send what was held, then stream live. */
  start(): void {
    if (this.closed || !this.held) return;
    const held = this.held;
    this.held = undefined;
    this.heldLiveBytes = 0;
    for (const b of held) this.write(b.packets, b.burst);
  }

  /** Stop sending; with `bye`, tell the client first (RTCP BYE). Idempotent. */
  close(bye?: Buffer): void {
    if (this.closed) return;
    this.closed = true;
    this.held = undefined;
    if (this.srTimer) clearInterval(this.srTimer);
    if (bye) this.sink.writeRtcp(bye);
  }

  private write(packets: Buffer[], burst: boolean): void {
    if (burst) {
      const bytes = sizeOf(packets);
      this.burstBytesPending += bytes;
      this.sink.writeRtp(packets, () => {
        this.burstBytesPending -= bytes;
      });
    } else {
      this.sink.writeRtp(packets, () => {});
    }
    if (!this.srTimer) {
      // First SR right after the first packet (gortsplib 731e9d06), then periodically (~5 s like GStreamer).
      this.sendSr();
      this.srTimer = setInterval(() => this.sendSr(), this.opts.srIntervalMs);
      this.srTimer.unref();
    }
  }

  private sendSr(): void {
    if (this.closed) return;
    const sr = this.opts.senderReport();
    if (sr) this.sink.writeRtcp(sr);
  }
}
