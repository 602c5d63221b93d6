import { randomBytes } from 'node:crypto';
import { h264Payloads } from './h264Packetizer.js';
import { h265Payloads } from './h265Packetizer.js';
import { MAX_PAYLOAD, PAYLOAD_TYPE, VIDEO_CLOCK_RATE, type VideoCodec } from './types.js';

export const RTP_HEADER_SIZE = 12;

/** RTP fields of a packet we built, read back for RTP-Info and tests. */
export function rtpSeq(packet: Buffer): number {
  return packet.readUInt16BE(2);
}
export function rtpTimestamp(packet: Buffer): number {
  return packet.readUInt32BE(4);
}

export interface RtpPacketizerOptions {
  ssrc?: number;
  initialSeq?: number;
  timestampOffset?: number;
  maxPayload?: number;
}

/**
 * Turns access units into RTP packets of one stream (one SSRC, one sequence space). Initial sequence
 * number, timestamp offset and SSRC are random (RFC 3550 §5.1) unless given, for tests.
 */
export class RtpPacketizer {
  readonly ssrc: number;
  readonly timestampOffset: number;
  /** Sequence number of the next packet. */
  nextSeq: number;
  private readonly maxPayload: number;
  private readonly payloadsOf: (nalu: Buffer, max: number) => Buffer[];

  constructor(codec: VideoCodec, opts: RtpPacketizerOptions = {}) {
    const rnd = randomBytes(10);
    this.ssrc = (opts.ssrc ?? rnd.readUInt32BE(0)) >>> 0;
    this.nextSeq = (opts.initialSeq ?? rnd.readUInt16BE(4)) & 0xffff;
    this.timestampOffset = (opts.timestampOffset ?? rnd.readUInt32BE(6)) >>> 0;
    this.maxPayload = opts.maxPayload ?? MAX_PAYLOAD;
    this.payloadsOf = codec === 'h264' ? h264Payloads : h265Payloads;
  }

  /** 90 kHz RTP timestamp of a presentation time, wrapping at 2^32. */
  rtpTime(ptsS: number): number {
    return (this.timestampOffset + Math.round(ptsS * VIDEO_CLOCK_RATE)) % 2 ** 32;
  }

  /**
   * All packets of one access unit: the same timestamp on each, marker bit on the last one
   * (RFC 6184 §5.1, RFC 7798 §4.1) so clients know the picture is complete without waiting.
   */
  packetize(nalus: readonly Buffer[], ptsS: number): Buffer[] {
    const ts = this.rtpTime(ptsS);
    const payloads = nalus.flatMap((n) => this.payloadsOf(n, this.maxPayload));
    return payloads.map((payload, i) => {
      const p = Buffer.allocUnsafe(RTP_HEADER_SIZE + payload.length);
      p[0] = 0x80; // V=2, no padding, no extension, no CSRC
      p[1] = (i === payloads.length - 1 ? 0x80 : 0) | PAYLOAD_TYPE;
      p.writeUInt16BE(this.nextSeq, 2);
      p.writeUInt32BE(ts, 4);
      p.writeUInt32BE(this.ssrc, 8);
      payload.copy(p, RTP_HEADER_SIZE);
      this.nextSeq = (this.nextSeq + 1) & 0xffff;
      return p;
    });
  }
}
