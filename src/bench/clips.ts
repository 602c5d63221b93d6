import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { resolveFfmpeg, resolveFfprobe } from '../io/ffmpeg/binary.js';

const run = promisify(execFile);

/** A clip size the bench measures: the source's own size and rate, or a height at 25 fps made from it. */
export type ClipSize = 'own' | '720p' | '1080p';
export const CLIP_SIZES: readonly ClipSize[] = ['own', '720p', '1080p'];

export interface BenchClip {
  size: ClipSize;
  /** e.g. 576p10, 720p25: what the tables call it. */
  label: string;
  file: string;
  width: number;
  height: number;
  fps: number;
  frames: number;
}

interface Probed {
  width: number;
  height: number;
  fps: number;
  frames: number;
}

async function probe(file: string): Promise<Probed> {
  const { stdout } = await run(resolveFfprobe(), [
    '-v', 'error', '-select_streams', 'v:0', '-count_packets',
    '-show_entries', 'stream=width,height,r_frame_rate,nb_read_packets', '-of', 'json', file,
  ]);
  const s = (JSON.parse(stdout) as { streams: { width: number; height: number; r_frame_rate: string; nb_read_packets: string }[] }).streams[0];
  if (!s) throw new Error(`${file} has no video stream`);
  const [num, den] = s.r_frame_rate.split('/').map(Number) as [number, number];
  return { width: s.width, height: s.height, fps: den ? num / den : num, frames: Number(s.nb_read_packets) };
}

/**
 * The bench's clips, made from one source with ffmpeg: H.264 without B-frames (`sie camera --copy`
 * stamps pts in decode order, so a clip with B-frames would reach the engine with non-monotonic
 * timestamps), a keyframe every 2 s, `durationS` long. Made once and kept in the system's temp folder,
 * keyed by the source's path, size and mtime and by the clip's parameters, so a second bench run (and
 * `make test`'s quick one) does not spend its time encoding.
 */
export async function prepareClip(source: string, size: ClipSize, durationS: number, cacheDir = join(tmpdir(), 'sie-bench-clips')): Promise<BenchClip> {
  const src = await probe(source);
  const height = size === 'own' ? src.height : size === '720p' ? 720 : 1080;
  const fps = size === 'own' ? src.fps : 25;
  const st = statSync(source);
  const key = createHash('sha256').update(JSON.stringify([resolve(source), st.size, st.mtimeMs, height, fps, durationS, 1])).digest('hex').slice(0, 12);
  const label = `${height}p${Math.round(fps)}`;
  mkdirSync(cacheDir, { recursive: true });
  const file = join(cacheDir, `${basename(source).replace(/\.[^.]+$/, '')}-${label}-${durationS}s-${key}.mp4`);
  if (!existsSync(file)) {
    const partial = `${file}.${process.pid}.partial.mp4`;
    const filters = size === 'own' ? [] : [`fps=${fps}`, `scale=-2:${height}:flags=bicubic`];
    await run(resolveFfmpeg(), [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', source, '-t', String(durationS), '-an',
      ...(filters.length > 0 ? ['-vf', filters.join(',')] : []),
      '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '0', '-g', String(Math.round(2 * fps)), '-pix_fmt', 'yuv420p', partial,
    ]);
    renameSync(partial, file);
  }
  const p = await probe(file);
  return { size, label, file, ...p };
}
