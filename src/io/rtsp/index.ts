/**
 * Embedded RTSP server (play only) for annotated H.264/H.265 output.
 *
 *   const server = new RtspServer({ port: 8554 });
 *   await server.listen();
 *   const mount = server.createMount('cams/1', { codec: 'h264' });
 *   const splitter = new AccessUnitSplitter('h264', (nalus) => mount.writeAccessUnit(nalus, frame++ / fps));
 *   ffmpegStdout.on('data', (c) => splitter.push(c));   // ffmpeg ... -bf 0 -bsf:v h264_metadata=aud=insert -f h264 -
 *
 * Clients read rtsp://host:8554/cams/1 over TCP or UDP. Encode without B-frames (RTP timestamps are
 * PTS and must not go backwards) and with a short GOP: a late reader starts at the cached keyframe.
 */
export type { VideoCodec } from './types.js';
export { RtspServer, type RtspServerOptions, type MountLocator } from './server.js';
export type { RtspMount } from './mount.js';
export type { MountAuth, AuthMethod } from './auth.js';
export { AccessUnitSplitter } from './annexb.js';
export { isKeyframe } from './nal.js';
export * from './errors.js';
