import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * Which ffmpeg to run: $FFMPEG_PATH, else the ffmpeg-static binary when its download ever ran, else the
 * system's (Debian's, installed by the Makefile). ffmpeg-static's install script cannot reach its host
 * here, so normally the package is present without a binary.
 */
export function resolveFfmpeg(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FFMPEG_PATH) return env.FFMPEG_PATH;
  try {
    const require = createRequire(import.meta.url);
    const p = require('ffmpeg-static') as unknown;
    if (typeof p === 'string' && existsSync(p)) return p;
  } catch {
    // package missing or broken: fall through to the system binary
  }
  return 'ffmpeg';
}

/** ffprobe beside the chosen ffmpeg (Debian ships both in /usr/bin). */
export function resolveFfprobe(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FFPROBE_PATH) return env.FFPROBE_PATH;
  const ff = resolveFfmpeg(env);
  return ff.endsWith('ffmpeg') ? `${ff.slice(0, -'ffmpeg'.length)}ffprobe` : 'ffprobe';
}
