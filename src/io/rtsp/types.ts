/** Video codecs the server can publish. */
export type VideoCodec = 'h264' | 'h265';

/** RTP clock rate of H.264/H.265 video (RFC 6184 §8.2.1, RFC 7798 §7.1). */
export const VIDEO_CLOCK_RATE = 90_000;

/** Dynamic payload type used in the SDP and every RTP packet. */
export const PAYLOAD_TYPE = 96;

/**
 * Largest RTP payload. 1400 leaves room for IP/UDP/RTP headers and a VPN or PPPoE hop inside a
 * 1500-byte MTU (gortsplib uses 1450); the same size is used over TCP because FFmpeg drops
 * interleaved frames larger than its buffer.
 */
export const MAX_PAYLOAD = 1400;
