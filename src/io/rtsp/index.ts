export type { VideoCodec } from './types.js';
export { RtspServer, type RtspServerOptions } from './server.js';
export type { RtspMount } from './mount.js';
export type { MountAuth, AuthMethod } from './auth.js';
export { AccessUnitSplitter } from './annexb.js';
export { isKeyframe } from './nal.js';
export * from './errors.js';
