import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { AccessUnitSplitter } from '../../src/io/rtsp/annexb.js';
import type { RtspMount, VideoCodec } from '../../src/io/rtsp/index.js';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Spawns child processes for a test file and guarantees they die: call killAll() in afterEach/afterAll.
 * A SIGSTOPped child gets SIGCONT first so SIGKILL is not left pending on a stopped process.
 */
export class ProcessTracker {
  private readonly procs = new Set<ChildProcess>();

  spawn(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.procs.add(p);
    p.on('exit', () => this.procs.delete(p));
    p.on('error', () => this.procs.delete(p));
    return p;
  }

  /** Runs to completion (or SIGKILL after timeoutMs) and collects output. */
  run(cmd: string, args: string[], timeoutMs = 20_000): Promise<RunResult> {
    const p = this.spawn(cmd, args);
    let stdout = '';
    let stderr = '';
    p.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, timeoutMs);
    return new Promise((resolve, reject) => {
      p.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      p.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr, timedOut });
      });
    });
  }

  async killAll(): Promise<void> {
    const waits: Promise<unknown>[] = [];
    for (const p of this.procs) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      waits.push(new Promise((r) => p.once('exit', r)));
      p.kill('SIGCONT');
      p.kill('SIGKILL');
    }
    await Promise.all(waits);
    this.procs.clear();
  }
}

/** Polls until cond() is true; throws with `what` (evaluated then) after timeoutMs. */
export async function waitFor(cond: () => boolean, what: string | (() => string), timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface Encoder {
  proc: ChildProcess;
  /** Access units written to the mount so far. */
  readonly frames: number;
}

/**
 * A real-time ffmpeg encoder (testsrc2, one keyframe per second at 25 fps, no B-frames, in-band
 * parameter sets, AUD inserted) feeding mounts through AccessUnitSplitter with pts = frame/25.
 */
export function startEncoder(tracker: ProcessTracker, mounts: RtspMount | RtspMount[], codec: VideoCodec, size = '640x360'): Encoder {
  const targets = Array.isArray(mounts) ? mounts : [mounts];
  const enc =
    codec === 'h264'
      ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-bf', '0', '-g', '25', '-x264-params', 'repeat-headers=1', '-bsf:v', 'h264_metadata=aud=insert', '-f', 'h264']
      : ['-c:v', 'libx265', '-preset', 'ultrafast', '-tune', 'zerolatency', '-bf', '0', '-g', '25', '-x265-params', 'repeat-headers=1:log-level=error', '-bsf:v', 'hevc_metadata=aud=insert', '-f', 'hevc'];
  const proc = tracker.spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25`, '-pix_fmt', 'yuv420p', ...enc, '-']);
  let frames = 0;
  const splitter = new AccessUnitSplitter(codec, (nalus) => {
    for (const m of targets) m.writeAccessUnit(nalus, frames / 25);
    frames++;
  });
  proc.stdout?.on('data', (d: Buffer) => splitter.push(d));
  proc.stdout?.on('end', () => splitter.flush());
  proc.stderr?.resume();
  return {
    proc,
    get frames() {
      return frames;
    },
  };
}
