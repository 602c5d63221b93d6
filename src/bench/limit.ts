import { spawn } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import { resolveFfmpeg } from '../io/ffmpeg/binary.js';
import { decoderArgs } from '../io/ffmpeg/decoder.js';
import { FfmpegEncoder, defaultEncoderSettings } from '../io/ffmpeg/encoder.js';
import { letterboxYuv420p } from '../inference/letterbox.js';
import { getModelSession } from '../inference/modelSession.js';
import { yuv420pSize } from '../frame.js';
import { silentLogger } from '../log.js';
import type { BenchClip } from './clips.js';
import { reapedChildrenCpuMs } from './procfs.js';

/** What one stage alone costs per frame, CPU ms, and the rate the machine's cores allow for the three. */
export interface StageLimit {
  decodeMs: number;
  /** Letterboxing into the model's input: per-frame work too, reported beside the limit, not in it. */
  preprocessMs: number;
  inferenceMs: number;
  encodeMs: number;
  /** decode + inference + encode, the definition of the limit. */
  sumMs: number;
  limitFps: number;
}

/** CPU ms of this process (every thread: ORT's included). */
function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Decode alone: ffmpeg #1 with the decoder's own arguments, as fast as it goes, its frames read and
 * thrown away. Returns ffmpeg's CPU ms per frame and the first `keep` frames (for the other stages).
 */
async function decodeAlone(clip: BenchClip, keep: number, onlyFirst = false): Promise<{ cpuMs: number; count: number; frames: Buffer[] }> {
  const size = yuv420pSize(clip);
  const args = decoderArgs({ source: { url: clip.file, transport: 'tcp', realtime: false }, ioTimeoutS: 10, logger: silentLogger });
  if (onlyFirst) args.splice(args.length - 1, 0, '-frames:v', '1');
  const before = reapedChildrenCpuMs();
  const child = spawn(resolveFfmpeg(), args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const kept: Buffer[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let count = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    if (kept.length >= keep) {
      // Only counting from here on: no copy.
      pendingBytes += chunk.length;
      count += Math.floor(pendingBytes / size);
      pendingBytes %= size;
      return;
    }
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (pendingBytes >= size) {
      const all = Buffer.concat(pending);
      kept.push(Buffer.from(all.subarray(0, size)));
      count++;
      pending = [all.subarray(size)];
      pendingBytes -= size;
    }
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  if (code !== 0 || count === 0) throw new Error(`decoding ${clip.file} failed (ffmpeg exited ${code}, ${count} frames)`);
  return { cpuMs: reapedChildrenCpuMs() - before, count, frames: kept };
}

/**
 * Inference alone, on this thread with one intra-op thread (as a worker runs it): the kept frames
 * letterboxed once, then `runs` session.run() calls cycling over them. Also what letterboxing costs.
 */
async function inferenceAlone(frames: Buffer[], clip: BenchClip, model: string, runs: number): Promise<{ inferenceMs: number; preprocessMs: number }> {
  const session = await getModelSession(model, { threads: 1 });
  const shape = session.inputMetadata[0];
  const dims = shape?.isTensor ? shape.shape : [1, 3, 416, 416];
  const [h, w] = [Number(dims[2]), Number(dims[3])];
  const inputs = frames.map(() => new Float32Array(3 * w * h));
  const letterboxAll = () => frames.forEach((f, i) => letterboxYuv420p({ pixels: f, width: clip.width, height: clip.height }, inputs[i]!, w, h));
  // A first pass unmeasured: the geometry's tables are built once and the JIT warms up, as in a long run.
  letterboxAll();
  const p0 = ownCpuMs();
  const passes = Math.max(1, Math.ceil(runs / frames.length));
  for (let p = 0; p < passes; p++) letterboxAll();
  const preprocessMs = (ownCpuMs() - p0) / (passes * frames.length);
  const tensors = inputs.map((d) => new ort.Tensor('float32', d, [1, 3, h, w]));
  const name = session.inputNames[0]!;
  await session.run({ [name]: tensors[0]! }); // the first run allocates: not a frame's cost
  const t0 = ownCpuMs();
  for (let i = 0; i < runs; i++) await session.run({ [name]: tensors[i % tensors.length]! });
  return { inferenceMs: (ownCpuMs() - t0) / runs, preprocessMs };
}

/** Encode alone: ffmpeg #2 with the live runs' x264 settings, fed the kept frames as fast as it takes them.
 *  Returns its CPU ms in all. */
async function encodeAlone(frames: Buffer[], clip: BenchClip, count: number): Promise<number> {
  const before = reapedChildrenCpuMs();
  const encoder = new FfmpegEncoder({
    width: clip.width,
    height: clip.height,
    fps: clip.fps,
    settings: defaultEncoderSettings,
    output: { kind: 'pipe' },
    logger: silentLogger,
    onExit: () => undefined,
  });
  for (let i = 0; i < count; i++) await encoder.write(frames[i % frames.length]!);
  const code = await encoder.finish();
  if (code !== 0) throw new Error(`encoding failed (ffmpeg exited ${code})`);
  return reapedChildrenCpuMs() - before;
}

/**
 * The per-stage limit of one clip: each stage alone, one thread, its CPU time per frame; `cores` divided
 * by their sum is the rate no pipeline of these three stages can beat on this machine.
 */
export async function measureLimit(clip: BenchClip, o: { model: string; cores: number; inferenceRuns: number; keepFrames: number }): Promise<StageLimit> {
  // ffmpeg's own start (probing, x264's set-up) is not a frame's cost: a run of one frame is taken off.
  const decoded = await decodeAlone(clip, o.keepFrames);
  const decodeStart = await decodeAlone(clip, 1, true);
  const decodeMs = (decoded.cpuMs - decodeStart.cpuMs) / Math.max(1, decoded.count - 1);
  const { inferenceMs, preprocessMs } = await inferenceAlone(decoded.frames, clip, o.model, o.inferenceRuns);
  const encodeMs = ((await encodeAlone(decoded.frames, clip, clip.frames)) - (await encodeAlone(decoded.frames, clip, 1))) / Math.max(1, clip.frames - 1);
  const sumMs = decodeMs + inferenceMs + encodeMs;
  return { decodeMs, preprocessMs, inferenceMs, encodeMs, sumMs, limitFps: (o.cores * 1000) / sumMs };
}
