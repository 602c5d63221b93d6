import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, SIE_MAIN } from './children.js';
import { ProcessMeter } from './processMeter.js';
import type { BenchClip } from './clips.js';
import { defaultEncoderSettings } from '../io/ffmpeg/encoder.js';

/** What one way of processing a clip achieved: the columns of the bench's table. */
export interface PipelineFigures {
  fps: number;
  /** CPU time of the whole process tree (node, its threads, both ffmpeg) per frame, over the work alone. */
  cpuMsPerFrame: number;
  /** fps / the clip's limit_fps. */
  ratioToLimit: number;
  /** Resident memory of the process tree at its highest, MB. */
  peakRssMb: number;
  frames: number;
}

const NAIVE_MAIN = fileURLToPath(new URL('./naiveLoopMain.js', import.meta.url));

/**
 * Runs a command that processes a file and ends with a line saying how many frames it did in how many
 * seconds of work; its tree's CPU is counted over those seconds only (ending at that line), so loading
 * the model and starting workers are not charged to the frames.
 */
async function measureFileCommand(args: string[], done: RegExp, limitFps: number): Promise<PipelineFigures> {
  let result: { frames: number; seconds: number; endMs: number } | undefined;
  const child = new Child(process.execPath, args, {
    onLine: (line) => {
      const m = done.exec(line);
      if (!m || result) return;
      // Lines come from the child's pipes, later than this function's synchronous part: meter is set.
      meter.read();
      result = { frames: Number(m[1]), seconds: Number(m[2]), endMs: performance.now() };
    },
  });
  const meter = new ProcessMeter(child.pid);
  const exit = await child.exited;
  meter.stop();
  if (exit.code !== 0 || !result) throw new Error(`${args.slice(0, 2).join(' ')} failed (exit ${exit.code}):\n${child.recent()}`);
  const { frames, seconds, endMs } = result;
  const cpuMs = meter.cpuAt(endMs) - meter.cpuAt(endMs - seconds * 1000);
  const fps = frames / seconds;
  return { fps, cpuMsPerFrame: cpuMs / frames, ratioToLimit: fps / limitFps, peakRssMb: meter.peakRssKb / 1024, frames };
}

export interface FileRunOptions {
  model: string;
  labels: string;
  /** A rules config (JSON file) for replay: tracking, rules and drawing as a client would have them. */
  config: string;
  tmpDir: string;
  limitFps: number;
  inferenceWorkers?: number;
}

/** The naive loop (naiveLoop.ts) on a clip, in a process of its own. */
export function measureNaiveLoop(clip: BenchClip, o: FileRunOptions): Promise<PipelineFigures> {
  const args = { video: clip.file, width: clip.width, height: clip.height, fps: clip.fps, model: o.model, labels: o.labels, out: join(o.tmpDir, `naive-${clip.label}.mp4`) };
  return measureFileCommand([NAIVE_MAIN, JSON.stringify(args)], /^naive: (\d+) frames in ([\d.]+) s/, o.limitFps);
}

/** `sie replay` on a clip with the annotated video written, as a user runs it, but with the live runs' x264
 *  preset (the limit and the naive loop encode with it; replay's own default, veryfast, costs ~9 ms more a
 *  1080p frame and would compare unlike with like). */
export function measureReplay(clip: BenchClip, o: FileRunOptions): Promise<PipelineFigures> {
  const out = join(o.tmpDir, `replay-${clip.label}.mp4`);
  const args = [SIE_MAIN, 'replay', clip.file, '--model', o.model, '--labels', o.labels, '--config', o.config, '--out', out, '--preset', defaultEncoderSettings.preset];
  if (o.inferenceWorkers !== undefined) args.push('--inference-workers', String(o.inferenceWorkers));
  return measureFileCommand(args, /^replay: (\d+) frames .* in ([\d.]+) s/, o.limitFps);
}
