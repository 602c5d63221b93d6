/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;

export const RTCP_SR = 200;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;

export interface SenderReportInfo {
  ssrc: number;
  /** Wall-clock time of the report, Unix milliseconds. */
  wallMs: number;
  /** RTP timestamp of that same instant (extrapolated from the last packet). */
  rtpTime: number;
  packetCount: number;
  octetCount: number;
  cname: string;
}

/** NTP 64-bit timestamp: seconds since 1900 and a 32-bit binary fraction. */
export function ntpTime(wallMs: number): { seconds: number; fraction: number } {
  const seconds = Math.floor(wallMs / 1000);
  const fraction = Math.floor(((wallMs - seconds * 1000) / 1000) * 2 ** 32);
  return { seconds: (seconds + NTP_UNIX_OFFSET_S) % 2 ** 32, fraction: Math.min(fraction, 2 ** 32 - 1) };
}

/** SDES with one CNAME chunk, padded with a null END item to a 32-bit boundary (RFC 3550 §6.5). */
function sdes(ssrc: number, cname: string): Buffer {
  const text = Buffer.from(cname, 'utf8').subarray(0, 255);
  // ssrc(4) + type(1) + len(1) + text + at least one null octet, rounded up to 4.
  const chunkLen = Math.ceil((4 + 2 + text.length + 1) / 4) * 4;
  const b = Buffer.alloc(4 + chunkLen);
  b[0] = 0x81; // V=2, SC=1
  b[1] = RTCP_SDES;
  b.writeUInt16BE(b.length / 4 - 1, 2);
  b.writeUInt32BE(ssrc >>> 0, 4);
  b[8] = 1; // CNAME
  b[9] = text.length;
  text.copy(b, 10);
  return b;
}

/**
 * Compound RTCP packet: sender report (no report blocks: we receive nothing) followed by SDES CNAME,
 * as RFC 3550 §6.1 requires of every compound packet. Clients use the NTP/RTP pair to map RTP time to
 * wall clock (VLC resynchronises at the first SR; UniFi Protect drifts without them).
 */
export function buildSenderReport(info: SenderReportInfo): Buffer {
  const sr = Buffer.alloc(28);
  sr[0] = 0x80; // V=2, RC=0
  sr[1] = RTCP_SR;
  sr.writeUInt16BE(6, 2); // length in 32-bit words minus one
  sr.writeUInt32BE(info.ssrc >>> 0, 4);
  const ntp = ntpTime(info.wallMs);
  sr.writeUInt32BE(ntp.seconds, 8);
  sr.writeUInt32BE(ntp.fraction, 12);
  sr.writeUInt32BE(info.rtpTime >>> 0, 16);
  sr.writeUInt32BE(info.packetCount % 2 ** 32, 20);
  sr.writeUInt32BE(info.octetCount % 2 ** 32, 24);
  return Buffer.concat([sr, sdes(info.ssrc, info.cname)]);
}

/**
 * Goodbye sent when a reader's stream ends (mount removed, TEARDOWN, dropped). RFC 3550 §6.1 wants a
 * compound packet to begin with SR or RR, so an empty RR precedes the BYE. VLC drops the track on
 * BYE; FFmpeg ends the stream.
 */
export function buildBye(ssrc: number): Buffer {
  const b = Buffer.alloc(16);
  b[0] = 0x80; // RR, RC=0
  b[1] = 201;
  b.writeUInt16BE(1, 2);
  b.writeUInt32BE(ssrc >>> 0, 4);
  b[8] = 0x81; // BYE, SC=1
  b[9] = RTCP_BYE;
  b.writeUInt16BE(1, 10);
  b.writeUInt32BE(ssrc >>> 0, 12);
  return b;
}

/** Parsed first RTCP packet header, for tests and for telling RTCP from FFmpeg's punch packets. */
export function rtcpPacketTypes(buf: Buffer): number[] {
  const types: number[] = [];
  let off = 0;
  while (off + 4 <= buf.length) {
    if ((buf[off]! >> 6) !== 2) break;
    types.push(buf[off + 1]!);
    off += (buf.readUInt16BE(off + 2) + 1) * 4;
  }
  return types;
}
