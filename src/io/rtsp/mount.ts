import { randomBytes } from 'node:crypto';
import type { Logger } from '../../log.js';
import { Authenticator, type MountAuth } from './auth.js';
import { isAud, isKeyframe, paramSetKind, type ParamSetKind } from './nal.js';
import type { Reader } from './reader.js';
import { buildBye, buildSenderReport } from './rtcp.js';
import { RTP_HEADER_SIZE, RtpPacketizer, rtpSeq, rtpTimestamp } from './rtp.js';
import { buildSdp, hasParameterSets, type ParameterSets } from './sdp.js';
import { VIDEO_CLOCK_RATE, type VideoCodec } from './types.js';

export interface RtspMount {
  readonly path: string;
  readonly codec: VideoCodec;
  /**
   * One access unit (one picture): NAL units WITHOUT start codes, in decode order; ptsS in seconds
   * (monotonic, ≥ 0). Parameter sets found in the AU are cached for the SDP; AUD NAL units are dropped.
   * Never blocks and never throws for bad input (it is logged and skipped).
   */
  writeAccessUnit(nalus: Buffer[], ptsS: number): void;
  /** Readers currently playing (receiving packets). */
  readonly readerCount: number;
  /** bytesSent: RTP bytes handed to the readers' queues (packet bytes × readers that took them). */
  readonly stats: { accessUnits: number; readersDropped: number; bytesSent: number };
  close(): void;
}

/** RTP-Info values for a reader: the first packet it will get; absent when nothing was sent yet. */
export interface StartInfo {
  seq?: number;
  rtptime?: number;
}

export interface MountDeps {
  logger: Logger;
  /** Keyframe-to-now packets kept for late readers; beyond it caching stops until the next keyframe. */
  gopCacheMaxPackets: number;
  onClose: (m: Mount) => void;
}

/**
 * One published stream: packetises each access unit once, keeps the current group of pictures so a
 * late reader starts at a keyframe, and fans packets out to the readers' own queues. One SSRC and
 * sequence space for all readers, so cached packets are resent unchanged and each reader sees
 * contiguous sequence numbers (mediamtx PR#4189).
 */
export class Mount implements RtspMount {
  readonly stats = { accessUnits: 0, readersDropped: 0, bytesSent: 0 };
  readonly authenticator: Authenticator | undefined;
  readonly cname = `sie-${randomBytes(6).toString('hex')}`;
  private readonly params: ParameterSets = {};
  private readonly packetizer: RtpPacketizer;
  private readonly readers = new Set<Reader>();
  private readonly log: Logger;
  private gop: Buffer[] | undefined;
  private packetCount = 0;
  private octetCount = 0;
  private lastRtpTime = 0;
  private lastWallMs = 0;
  private lastPts = -1;
  private waiters = new Set<(ok: boolean) => void>();
  private closed = false;

  constructor(
    readonly path: string,
    readonly codec: VideoCodec,
    auth: MountAuth | undefined,
    private readonly deps: MountDeps,
  ) {
    this.authenticator = auth ? new Authenticator(auth, 'sie') : undefined;
    this.packetizer = new RtpPacketizer(codec);
    this.log = deps.logger.child({ mount: path });
  }

  get readerCount(): number {
    return this.readers.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get ssrc(): number {
    return this.packetizer.ssrc;
  }

  /** SDP from the latest parameter sets (regenerated when in-band SPS/PPS change), undefined until known. */
  sdp(): string | undefined {
    return hasParameterSets(this.codec, this.params) ? buildSdp(this.codec, this.params) : undefined;
  }

  /** Resolves true once parameter sets are known, false after `ms` or when the mount closes. */
  whenReady(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.sdp()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), ms);
      this.waiters.add(done);
    });
  }

  writeAccessUnit(input: Buffer[], ptsS: number): void {
    if (this.closed) return;
    if (!Number.isFinite(ptsS) || ptsS < 0) {
      this.log.warn({ ptsS }, 'access unit with invalid pts skipped');
      return;
    }
    if (ptsS < this.lastPts) this.log.debug({ ptsS, lastPts: this.lastPts }, 'pts went backwards');
    this.lastPts = ptsS;
    const nalus = input.filter((n) => n.length > 0 && !isAud(this.codec, n));
    if (nalus.length === 0) return;
    const present = new Set<ParamSetKind>();
    let changed = false;
    for (const n of nalus) {
      const kind = paramSetKind(this.codec, n);
      if (!kind) continue;
      present.add(kind);
      if (!this.params[kind]?.equals(n)) {
        this.params[kind] = Buffer.from(n);
        changed = true;
      }
    }
    if (changed && this.sdp()) {
      this.log.debug('parameter sets updated');
      for (const w of [...this.waiters]) w(true);
    }
    const key = isKeyframe(this.codec, nalus);
    let au = nalus;
    if (key) {
      // Decoders (ExoPlayer above all) cannot start at an IDR without its parameter sets.
      const needed: ParamSetKind[] = this.codec === 'h265' ? ['vps', 'sps', 'pps'] : ['sps', 'pps'];
      const missing = needed.filter((k) => !present.has(k) && this.params[k]).map((k) => this.params[k]!);
      if (missing.length) au = [...missing, ...nalus];
    }
    const packets = this.packetizer.packetize(au, ptsS);
    this.packetCount += packets.length;
    let bytes = 0;
    for (const p of packets) bytes += p.length;
    this.octetCount += bytes - packets.length * RTP_HEADER_SIZE;
    this.lastRtpTime = this.packetizer.rtpTime(ptsS);
    this.lastWallMs = Date.now();
    this.stats.accessUnits++;
    this.cache(packets, key);
    for (const r of this.readers) {
      if (!r.push(packets)) {
        this.readers.delete(r);
        this.stats.readersDropped++;
        this.log.debug({ readers: this.readers.size }, 'reader queue full');
      } else {
        this.stats.bytesSent += bytes;
      }
    }
  }

  private cache(packets: Buffer[], key: boolean): void {
    if (key) {
      this.gop = packets.slice();
    } else if (this.gop) {
      if (this.gop.length + packets.length > this.deps.gopCacheMaxPackets) {
        this.log.warn({ maxPackets: this.deps.gopCacheMaxPackets }, 'GOP too long to cache: late readers wait for the next keyframe');
        this.gop = undefined;
      } else {
        for (const p of packets) this.gop.push(p);
      }
    }
  }

  /**
   * Adds a reader and queues the cached GOP for it alone (a burst it decodes at once). RTP-Info then
   * names the first cached packet; without a cache, the next packet's sequence number and the last
   * timestamp, which is never later than the first packet's (a later one gives FFmpeg negative pts).
   */
  attach(reader: Reader): StartInfo {
    const burst = this.gop?.slice() ?? [];
    const first = burst[0];
    const info: StartInfo = first
      ? { seq: rtpSeq(first), rtptime: rtpTimestamp(first) }
      : this.packetCount > 0
        ? { seq: this.packetizer.nextSeq, rtptime: this.lastRtpTime }
        : {};
    reader.push(burst, true);
    this.readers.add(reader);
    return info;
  }

  detach(reader: Reader): void {
    this.readers.delete(reader);
  }

  /** SR for this instant: RTP time extrapolated from the last packet at the 90 kHz clock. */
  senderReport(): Buffer | undefined {
    if (this.packetCount === 0) return undefined;
    const now = Date.now();
    const rtpTime = (this.lastRtpTime + Math.round(((now - this.lastWallMs) * VIDEO_CLOCK_RATE) / 1000)) % 2 ** 32;
    return buildSenderReport({ ssrc: this.ssrc, wallMs: now, rtpTime, packetCount: this.packetCount, octetCount: this.octetCount, cname: this.cname });
  }

  bye(): Buffer {
    return buildBye(this.ssrc);
  }

  /** Ends the stream: readers get RTCP BYE and their sessions are closed; DESCRIBE then answers 404. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.waiters]) w(false);
    const bye = this.bye();
    for (const r of this.readers) r.close(bye);
    this.readers.clear();
    this.gop = undefined;
    this.deps.onClose(this);
  }
}
