import { PLAZA, SIE } from './media.js';
import { start, type Spawned } from './processes.js';

export interface CameraOptions {
  /** What it serves, looped (default: the plaza clip). */
  file?: string;
  /** Re-encoded to this size (`--size WxH`); default the file's own size. */
  size?: string;
  /** More `sie camera` arguments (`--copy`, `--codec h265`, `--user`…). */
  args?: string[];
  /** More environment (SIE_LOG_LEVEL=debug logs its RTSP sessions). */
  env?: NodeJS.ProcessEnv;
}

/**
 * A simulated camera as a user starts it: `sie camera` (bin/sie runs dist/: build first) serving
 * rtsp://127.0.0.1:<port>/cam; resolves once it listens. Started with start(), so killAll() ends it.
 */
export async function startCamera(port: number, opts: CameraOptions = {}): Promise<Spawned> {
  const args = ['camera', opts.file ?? PLAZA, '--port', String(port), '--host', '127.0.0.1', '--mount', 'cam'];
  if (opts.size) args.push('--size', opts.size);
  const p = start(SIE, [...args, ...(opts.args ?? [])], opts.env);
  await p.waitFor(/^camera: /m, 30_000);
  return p;
}
