import type dgram from 'node:dgram';
import type { Socket } from 'node:net';
import { interleave } from './message.js';

/** Where one reader's packets go: interleaved on its RTSP socket, or UDP datagrams. */
export interface ReaderSink {
  /** Sends packets; calls done once they have left this process (handed to the kernel). */
  writeRtp(packets: Buffer[], done: () => void): void;
  writeRtcp(packet: Buffer): void;
}

/** RTP on the even channel, RTCP on the next one: RTCP on the wrong channel made clients time out (gortsplib 213eb490). */
export function tcpSink(socket: Socket, channels: [number, number]): ReaderSink {
  return {
    // One write per access unit (go2rtc): fewer syscalls, and with setNoDelay no Nagle delay.
    writeRtp: (packets, done) => void socket.write(interleave(channels[0], packets), () => done()),
    writeRtcp: (packet) => void socket.write(interleave(channels[1], [packet])),
  };
}

/** From the shared server pair to the RTSP peer's ports (never a `destination=`: no reflection attacks). */
export function udpSink(rtp: dgram.Socket, rtcp: dgram.Socket, address: string, ports: [number, number]): ReaderSink {
  return {
    writeRtp(packets, done) {
      let left = packets.length;
      for (const p of packets) rtp.send(p, ports[0], address, () => --left === 0 && done());
    },
    writeRtcp: (packet) => rtcp.send(packet, ports[1], address),
  };
}

export interface ReaderOptions {
  /** Live packets that may be in flight at once; more means the reader cannot keep up and is dropped. */
  queueSize: number;
  /** The stream's current SR, undefined before its first packet. */
  senderReport: () => Buffer | undefined;
  srIntervalMs: number;
  /** Called once, asynchronously, when the queue overflows; the owner tears the session down. */
  onDrop: (reason: string) => void;
}

/**
 * One playing reader's outbound queue. The publisher never waits on it: packets are handed to the
 * socket at once and counted until the kernel takes them; a reader whose count exceeds queueSize is
 * stalled (SIGSTOPped client, dead link) and is dropped alone, the way gortsplib errors a reader whose
 * ring buffer is full. The GOP burst on join is not counted: it is bounded by the cache size and
 * would otherwise drop every late reader of a high-bitrate stream. Before start() (the PLAY reply not
 * yet written) packets are held, so no RTP precedes the reply on a TCP socket.
 */
export class Reader {
  private held: { packets: Buffer[]; burst: boolean }[] | undefined = [];
  private heldLive = 0;
  private inFlight = 0;
  private srTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly sink: ReaderSink,
    private readonly opts: ReaderOptions,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Queue one access unit's packets (or the GOP burst). Returns false if this reader was just dropped. */
  push(packets: Buffer[], burst = false): boolean {
    if (this.closed) return false;
    if (packets.length === 0) return true;
    if (!burst && this.inFlight + this.heldLive + packets.length > this.opts.queueSize) {
      this.close();
      const n = this.inFlight + this.heldLive;
      setImmediate(() => this.opts.onDrop(`write queue full (${n} packets pending)`));
      return false;
    }
    if (this.held) {
      this.held.push({ packets, burst });
      if (!burst) this.heldLive += packets.length;
      return true;
    }
    this.write(packets, burst);
    return true;
  }

  /** The PLAY reply is out: send what was held, then stream live. */
  start(): void {
    if (this.closed || !this.held) return;
    const held = this.held;
    this.held = undefined;
    this.heldLive = 0;
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
    const counted = burst ? 0 : packets.length;
    this.inFlight += counted;
    this.sink.writeRtp(packets, () => {
      this.inFlight -= counted;
    });
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
