import type { VideoCodec } from './types.js';

/** NAL unit type of the first header byte(s): H.264 has 5 bits in byte 0, H.265 6 bits (byte 0 >> 1). */
export function nalType(codec: VideoCodec, nalu: Buffer): number {
  const b = nalu[0] ?? 0;
  return codec === 'h264' ? b & 0x1f : (b >> 1) & 0x3f;
}

export const H264 = { IDR: 5, SEI: 6, SPS: 7, PPS: 8, AUD: 9, FU_A: 28 } as const;
export const H265 = { IRAP_MIN: 16, IRAP_MAX: 21, VPS: 32, SPS: 33, PPS: 34, AUD: 35, PREFIX_SEI: 39, FU: 49 } as const;

export function isAud(codec: VideoCodec, nalu: Buffer): boolean {
  return nalType(codec, nalu) === (codec === 'h264' ? H264.AUD : H265.AUD);
}

/** Coded-slice NAL units (H.264 1..5, H.265 0..31): the picture data itself. */
export function isVcl(codec: VideoCodec, nalu: Buffer): boolean {
  const t = nalType(codec, nalu);
  return codec === 'h264' ? t >= 1 && t <= 5 : t <= 31;
}

/** A keyframe lets a decoder start from scratch: H.264 IDR (5), H.265 IRAP (BLA/IDR/CRA, 16..21). */
export function isKeyframe(codec: VideoCodec, nalus: readonly Buffer[]): boolean {
  return nalus.some((n) => {
    const t = nalType(codec, n);
    return codec === 'h264' ? t === H264.IDR : t >= H265.IRAP_MIN && t <= H265.IRAP_MAX;
  });
}

export type ParamSetKind = 'vps' | 'sps' | 'pps';

/** Which parameter set a NAL unit is, if any (VPS exists only in H.265). */
export function paramSetKind(codec: VideoCodec, nalu: Buffer): ParamSetKind | undefined {
  const t = nalType(codec, nalu);
  if (codec === 'h264') return t === H264.SPS ? 'sps' : t === H264.PPS ? 'pps' : undefined;
  return t === H265.VPS ? 'vps' : t === H265.SPS ? 'sps' : t === H265.PPS ? 'pps' : undefined;
}

/**
 * Whether a NAL unit can only begin a new access unit once the current one holds a picture
 * (H.264 §7.4.1.2.3, H.265 §7.4.2.4.4): parameter sets, SEI, AUD and reserved prefix types.
 * Lets the splitter cope with streams that carry no AUD.
 */
export function startsAccessUnit(codec: VideoCodec, nalu: Buffer): boolean {
  const t = nalType(codec, nalu);
  if (codec === 'h264') {
    if (t === 6 || t === 7 || t === 8 || t === 9 || (t >= 14 && t <= 18)) return true;
    // first_mb_in_slice == 0 is ue(v) "1" as the first bit after the header: a new picture.
    return t >= 1 && t <= 5 && ((nalu[1] ?? 0) & 0x80) !== 0;
  }
  if (t === 32 || t === 33 || t === 34 || t === 35 || t === 39 || (t >= 41 && t <= 44) || (t >= 48 && t <= 55)) return true;
  // first_slice_segment_in_pic_flag is the first bit after the 2-byte header.
  return t <= 31 && ((nalu[2] ?? 0) & 0x80) !== 0;
}
