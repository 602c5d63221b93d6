import { H265 } from './nal.js';
import { MAX_PAYLOAD } from './types.js';

/**
 * RTP payloads for one H.265 NAL unit (RFC 7798): single NAL unit packet when it fits (§4.4.1), else
 * fragmentation units (§4.4.3). No aggregation packets (ExoPlayer#10600 lacks them) and no DONL,
 * which matches omitting sprop-max-don-diff from the SDP.
 */
export function h265Payloads(nalu: Buffer, maxPayload = MAX_PAYLOAD): Buffer[] {
  if (nalu.length <= maxPayload) return [nalu];
  const h0 = nalu[0] ?? 0;
  const h1 = nalu[1] ?? 0;
  // PayloadHdr copies F, LayerId and TID from the NAL header and sets Type = 49 (FU).
  const payloadHdr0 = (h0 & 0x81) | (H265.FU << 1);
  const type = (h0 >> 1) & 0x3f;
  const chunk = maxPayload - 3;
  const out: Buffer[] = [];
  for (let off = 2; off < nalu.length; off += chunk) {
    const end = Math.min(off + chunk, nalu.length);
    const fuHeader = (off === 2 ? 0x80 : 0) | (end === nalu.length ? 0x40 : 0) | type;
    const p = Buffer.allocUnsafe(3 + end - off);
    p[0] = payloadHdr0;
    p[1] = h1;
    p[2] = fuHeader;
    nalu.copy(p, 3, off, end);
    out.push(p);
  }
  return out;
}
