import { PAYLOAD_TYPE, VIDEO_CLOCK_RATE, type VideoCodec } from './types.js';

/** Cached parameter sets of a stream (raw NAL units, no start codes). */
export interface ParameterSets {
  vps?: Buffer;
  sps?: Buffer;
  pps?: Buffer;
}

/** Track control attribute; SETUP URLs end in it (Content-Base + "trackID=0"). */
export const TRACK_CONTROL = 'trackID=0';

/** Whether the SDP can be written: SPS+PPS, and VPS too for H.265. */
export function hasParameterSets(codec: VideoCodec, ps: ParameterSets): boolean {
  return Boolean(ps.sps && ps.pps && (codec === 'h264' || ps.vps));
}

/** profile_idc, constraint flags and level_idc: the 3 bytes after the SPS NAL header, as hex. */
export function profileLevelId(sps: Buffer): string {
  return sps.subarray(1, 4).toString('hex');
}

/**
 * The session description for one video track. Written the way gortsplib and go2rtc write it because
 * clients break on less: a non-empty s=, a t= line (ExoPlayer#10049), a unicast c= (a multicast one
 * makes VLC join a group), an a=control per track (some cameras' clients need it), and explicit
 * packetization-mode=1 (mode 0, the default, forbids FU-A). Parameter sets are base64 NAL units.
 */
export function buildSdp(codec: VideoCodec, ps: ParameterSets, sessionName = 'Stream'): string {
  const b64 = (b: Buffer | undefined): string => (b ? b.toString('base64') : '');
  let rtpmap: string;
  let fmtp: string;
  if (codec === 'h264') {
    rtpmap = `H264/${VIDEO_CLOCK_RATE}`;
    const params = ['packetization-mode=1'];
    if (ps.sps && ps.sps.length >= 4) params.push(`profile-level-id=${profileLevelId(ps.sps)}`);
    if (ps.sps && ps.pps) params.push(`sprop-parameter-sets=${b64(ps.sps)},${b64(ps.pps)}`);
    fmtp = params.join('; ');
  } else {
    rtpmap = `H265/${VIDEO_CLOCK_RATE}`;
    fmtp = [`sprop-vps=${b64(ps.vps)}`, `sprop-sps=${b64(ps.sps)}`, `sprop-pps=${b64(ps.pps)}`].join('; ');
  }
  const lines = [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    `s=${sessionName.replace(/[\r\n]/g, ' ') || ' '}`,
    'c=IN IP4 0.0.0.0',
    't=0 0',
    `m=video 0 RTP/AVP ${PAYLOAD_TYPE}`,
    `a=rtpmap:${PAYLOAD_TYPE} ${rtpmap}`,
    `a=fmtp:${PAYLOAD_TYPE} ${fmtp}`,
    `a=control:${TRACK_CONTROL}`,
  ];
  return lines.join('\r\n') + '\r\n';
}
