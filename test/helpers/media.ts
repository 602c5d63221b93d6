import { resolve } from 'node:path';
import { runToEnd } from './processes.js';

/** Shared assets are read from ../shared (never copied); SIE_SHARED overrides. */
export const SHARED = resolve(process.env.SIE_SHARED ?? '../shared');
export const PLAZA = `${SHARED}/media/plaza-pedestrians.mp4`;
export const MODEL = `${SHARED}/models/yolox_nano.onnx`;
export const LABELS = `${SHARED}/models/coco_classes.txt`;
export const SIE = resolve('bin/sie');

/** Runs `sie …` (bin/sie runs dist/: build first) to completion with extra environment; SIGKILLed after timeoutMs. */
export function runSie(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runToEnd(SIE, args, timeoutMs, env);
}

export interface ProbedFrames {
  codec: string;
  width: number;
  height: number;
  pts: number[];
}

/** Reads `seconds` of a stream with ffprobe (an independent client) and returns its frames' pts. */
export async function probeFrames(url: string, transport: 'tcp' | 'udp', seconds: number): Promise<ProbedFrames> {
  const r = await runToEnd(
    'ffprobe',
    ['-v', 'error', '-rtsp_transport', transport, '-read_intervals', `%+${seconds}`, '-select_streams', 'v:0',
      '-show_entries', 'stream=codec_name,width,height:frame=pts_time', '-of', 'json', url],
    (seconds + 20) * 1000,
  );
  if (r.code !== 0) throw new Error(`ffprobe ${transport} failed (${r.code}): ${r.stderr}`);
  const j = JSON.parse(r.stdout) as { streams: { codec_name: string; width: number; height: number }[]; frames: { pts_time?: string }[] };
  const s = j.streams[0]!;
  return {
    codec: s.codec_name,
    width: s.width,
    height: s.height,
    pts: j.frames.map((f) => Number(f.pts_time)).filter((n) => Number.isFinite(n)),
  };
}

/** The rate a stream's timestamps step at: 1 / the median spacing (robust to pictures a reader lost). */
export function streamRate(pts: number[]): number {
  const sorted = [...pts].sort((a, b) => a - b);
  const steps = sorted.slice(1).map((p, i) => p - sorted[i]!).filter((d) => d > 0).sort((a, b) => a - b);
  return 1 / steps[Math.floor(steps.length / 2)]!;
}

/** Frames an ffmpeg reader has received so far: the last `frame=N` of its `-progress pipe:1` output (0 before any). */
export function progressFrames(stdout: string): number {
  return Number([...stdout.matchAll(/^frame=(\d+)/gm)].at(-1)?.[1] ?? 0);
}

/** Pictures per second actually received: count over the time they span. */
export function fpsOf(pts: number[]): number {
  const sorted = [...pts].sort((a, b) => a - b);
  return (sorted.length - 1) / (sorted.at(-1)! - sorted[0]!);
}

/** One decoded frame (yuv420p) of a stream, after skipping `skip` frames. */
export async function grabFrame(url: string, width: number, height: number, skip = 10): Promise<Buffer> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolvePromise, reject) => {
    const p = spawn('ffmpeg', ['-v', 'error', '-rtsp_transport', 'tcp', '-i', url, '-vf', `select=gte(n\\,${skip})`,
      '-fps_mode', 'passthrough', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${width}x${height}`, '-']);
    const chunks: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (c: Buffer) => chunks.push(c));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      const buf = Buffer.concat(chunks);
      if (code === 0 && buf.length === (width * height * 3) / 2) resolvePromise(buf);
      else reject(new Error(`grabFrame failed (${code}, ${buf.length} bytes): ${err}`));
    });
  });
}

/** Runs ffmpeg to completion (stdin from `input`), returning stdout; rejects with its stderr. */
export async function runFfmpeg(args: string[], input?: Uint8Array): Promise<Buffer> {
  const { execFile } = await import('node:child_process');
  const { resolveFfmpeg } = await import('../../src/io/ffmpeg/binary.js');
  return new Promise((ok, fail) => {
    const p = execFile(resolveFfmpeg(), ['-v', 'error', ...args], { encoding: 'buffer', maxBuffer: 64 << 20 }, (err, out, errOut) =>
      err ? fail(new Error(`ffmpeg ${args.join(' ')}: ${err.message} ${errOut.toString()}`)) : ok(out),
    );
    if (input) p.stdin!.end(input);
  });
}
