import { H264 } from './nal.js';
import { MAX_PAYLOAD } from './types.js';

/**
 * RTP payloads for one H.264 NAL unit (RFC 6184, packetization-mode=1): the NAL unit itself when it
 * fits (single NAL unit packet, §5.6), else FU-A fragments (§5.8). STAP-A is never produced: some
 * clients lack it (baresip#432) and aggregating tiny SPS/PPS saves nothing worth that risk.
 */
export function h264Payloads(nalu: Buffer, maxPayload = MAX_PAYLOAD): Buffer[] {
  if (nalu.length <= maxPayload) return [nalu];
  const header = nalu[0] ?? 0;
  // FU indicator keeps F and NRI of the original header; the header byte itself is not sent,
  // its type travels in the FU header instead.
  const indicator = (header & 0xe0) | H264.FU_A;
  const type = header & 0x1f;
  const chunk = maxPayload - 2;
  const out: Buffer[] = [];
  for (let off = 1; off < nalu.length; off += chunk) {
    const end = Math.min(off + chunk, nalu.length);
    const fuHeader = (off === 1 ? 0x80 : 0) | (end === nalu.length ? 0x40 : 0) | type;
    const p = Buffer.allocUnsafe(2 + end - off);
    p[0] = indicator;
    p[1] = fuHeader;
    nalu.copy(p, 2, off, end);
    out.push(p);
  }
  return out;
}
