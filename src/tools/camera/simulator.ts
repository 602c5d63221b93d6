import { resolveFfmpeg } from '../../io/ffmpeg/binary.js';
import { ManagedProcess } from '../../io/ffmpeg/process.js';
import { StreamInfoParser } from '../../io/ffmpeg/streamInfo.js';
import { AccessUnitSplitter, type RtspMount, type VideoCodec } from '../../io/rtsp/index.js';
import type { Logger } from '../../log.js';

export interface CameraOptions {
  file: string;
  codec: VideoCodec;
  /** Re-scale, e.g. to make a 1080p camera from a smaller clip. */
  size?: { width: number; height: number };
  /** Keyframe interval in seconds (real cameras: 1–4 s). */
  keyframeIntervalS: number;
  /** Serve the file's video bitstream as it is, without re-encoding: broken or unusual streams (corrupt
   *  packets, a resolution change mid-stream) reach the client exactly as they are in the file. */
  copy?: boolean;
}

export function cameraArgs(o: CameraOptions, fps = 25): string[] {
  const gop = String(Math.max(1, Math.round(o.keyframeIntervalS * fps)));
  const args = ['-hide_banner', '-nostats', '-nostdin', '-loglevel', 'info', '-re', '-stream_loop', '-1', '-i', o.file, '-an', '-map', '0:v:0'];
  if (o.copy) {
    args.splice(args.indexOf('-stream_loop'), 2); // looped by CameraSimulator: raw .h264 files cannot seek
    // No bitstream filter either: h264_metadata would parse (and may reject) the very units we want to pass on.
    args.push('-c:v', 'copy', '-f', o.codec === 'h264' ? 'h264' : 'hevc', 'pipe:1');
    return args;
  }
  if (o.size) args.push('-vf', `scale=${o.size.width}:${o.size.height}`);
  args.push('-pix_fmt', 'yuv420p');
  if (o.codec === 'h264') {
    args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-bf', '0', '-g', gop);
    args.push('-x264-params', 'repeat-headers=1', '-bsf:v', 'h264_metadata=aud=insert', '-f', 'h264', 'pipe:1');
  } else {
    args.push('-c:v', 'libx265', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', gop);
    args.push('-x265-params', 'repeat-headers=1:bframes=0:log-level=error', '-bsf:v', 'hevc_metadata=aud=insert', '-f', 'hevc', 'pipe:1');
  }
  return args;
}

/** Frame rate of a file, read with one quick ffmpeg call (needed for the GOP length). */
async function probeFps(file: string): Promise<number> {
  const parser = new StreamInfoParser();
  const p = new ManagedProcess(resolveFfmpeg(), ['-hide_banner', '-nostdin', '-i', file, '-map', '0:v:0', '-frames:v', '1', '-f', 'null', '-'], {
    onStderrLine: (l) => void parser.feed(l),
  });
  await p.exited;
  return parser.info?.fps ?? 25;
}

/**
 * A camera for tests, demos and benchmarks: ffmpeg re-encodes a file in real time, looping forever, and
 * we publish its access units on a mount of the embedded server, with pts from the frame count.
 */
export class CameraSimulator {
  private proc: ManagedProcess | undefined;
  private stopped = false;
  accessUnits = 0;

  constructor(
    private readonly o: CameraOptions,
    private readonly mount: RtspMount,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const fps = await probeFps(this.o.file);
    if (this.stopped) return;
    const splitter = new AccessUnitSplitter(this.o.codec, (nalus) => {
      this.mount.writeAccessUnit(nalus, this.accessUnits / fps);
      this.accessUnits++;
    });
    this.spawn(fps, splitter);
  }

  private spawn(fps: number, splitter: AccessUnitSplitter): void {
    const proc = new ManagedProcess(resolveFfmpeg(), cameraArgs(this.o, fps), { logger: this.logger });
    this.proc = proc;
    proc.child.stdout.on('data', (c: Buffer) => splitter.push(c));
    void proc.exited.then((exit) => {
      if (this.stopped) return;
      // --copy cannot use -stream_loop (a raw .h264 file does not seek): the loop is ours, with the
      // pts running on. A failed start is not retried, or a bad file would spin.
      if (this.o.copy && exit.code === 0 && this.accessUnits > 0) {
        this.spawn(fps, splitter);
        return;
      }
      this.logger.error({ code: exit.code, stderr: proc.recentStderr().slice(-6) }, 'camera ffmpeg exited');
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.proc?.stop();
  }
}
