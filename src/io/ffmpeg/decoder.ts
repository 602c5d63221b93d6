import { finished } from 'node:stream/promises';
import { resolveFfmpeg } from './binary.js';
import { FrameSocket } from './frameSocket.js';
import { ManagedProcess } from './process.js';
import { StreamInfoParser, parseFramePts } from './streamInfo.js';
import type { DecodedStreamInfo } from '../../frame.js';
import { classifyDecoderExit } from './classify.js';
import { yuv420pSize, type FrameGeometry } from '../../frame.js';
import { secretsOfUrl } from '../../redact.js';
import { SourceInvalidError, coerceError, type SieError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { preciseNowMs } from '../../clock.js';

export interface SourceSpec {
  /** rtsp://, rtsps:// (credentials may sit in the URL) or a local file path. */
  url: string;
  /** RTSP lower transport; TCP by default (no loss, crosses NAT). */
  transport: 'tcp' | 'udp';
  /** Read a file at its native rate, like a camera (live runs); false = as fast as possible (replay). */
  realtime: boolean;
}

export function isRtspUrl(url: string): boolean {
  return /^rtsps?:\/\//i.test(url);
}

export interface DecoderCallbacks {
  onInfo(info: DecodedStreamInfo): void;
  /** One complete yuv420p frame. `index` counts frames of this ffmpeg process from 0. */
  onFrame(pixels: Buffer, index: number, ptsS: number, arrivedAtMs: number): void;
  /** ffmpeg ended: `error` undefined means the source ended normally (files). */
  onExit(error: SieError | undefined): void;
}

export interface DecoderOptions {
  source: SourceSpec;
  /** Scale to this size (reconnects keep the output size of the first connection). */
  outputSize?: FrameGeometry;
  /** Socket timeout for the RTSP connection. */
  ioTimeoutS: number;
  logger: Logger;
  /** Where each frame's bytes go (a run's frame pool); a new SharedArrayBuffer per frame by default. */
  allocateFrame?(size: number): Buffer;
}

/** ffmpeg arguments of pipeline #1: source → raw yuv420p frames on stdout, pts of each on stderr. */
export function decoderArgs(opts: DecoderOptions): string[] {
  const { source } = opts;
  const args = ['-hide_banner', '-nostats', '-nostdin', '-loglevel', 'info'];
  if (isRtspUrl(source.url)) {
    args.push('-rtsp_transport', source.transport, '-timeout', String(Math.round(opts.ioTimeoutS * 1e6)));
    // Start fast: a camera stream needs no long probing, and no extra buffering before the first frame.
    args.push('-fflags', 'nobuffer', '-analyzeduration', '1000000', '-probesize', '1000000');
  } else if (source.realtime) {
    args.push('-re');
  }
  // The URL, credentials included, is on ffmpeg's argv, visible on the process list: the RTSP demuxer
  // takes credentials only from the URL and ffmpeg 5.1 cannot read an argument from a file (README,
  // "Security"). Its stderr is scrubbed of the password (secretsOfUrl) before anything relays it.
  // One decoding thread: streams run in parallel as ffmpeg processes of their own, one per run. ffmpeg's
  // default (frame threads, one more than the cores) cost 5% more CPU at 1080p here (4.1 vs 3.9 ms a frame,
  // -benchmark) and holds each frame back until the next threads' frames are in, a frame period per extra
  // thread; one thread decodes 1080p at ~250 fps, far beyond what the stages after it take.
  args.push('-threads', '1', '-i', source.url, '-an', '-sn', '-dn', '-map', '0:v:0');
  // The metadata filter pair prints every frame's index and pts on stderr: raw video on a pipe carries no
  // timestamps, and this costs nothing per pixel (unlike showinfo, which checksums each frame).
  const filters: string[] = [];
  if (opts.outputSize) filters.push(`scale=${opts.outputSize.width}:${opts.outputSize.height}`);
  filters.push('metadata=mode=add:key=sie:value=1', 'metadata=mode=print');
  args.push('-vf', filters.join(','), '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1');
  return args;
}

/** Where stdout's bytes land while the frame size is still unknown (it comes on stderr). */
const SCRATCH_BYTES = 64 * 1024;

/**
 * ffmpeg #1. Its stdout is a FrameSocket: each frame's bytes are read straight into a buffer from
 * `allocateFrame`, joined with the frame's pts from stderr. Live runs never pause it: dropping is the
 * queue's job, a paused pipe would only make a live source lag. Replay pauses it (back-pressure).
 */
export class FfmpegDecoder {
  /** Undefined until the frame socket is open (a few ms), and when it could not be or we were stopped first. */
  private proc: ManagedProcess<null> | undefined;
  private frames: FrameSocket | undefined;
  /** Settles once ffmpeg is spawned, or will not be. */
  private readonly started: Promise<void>;
  private readonly infoParser = new StreamInfoParser();
  private frameSize = 0;
  private current: Buffer | undefined;
  private filled = 0;
  private readonly scratch = Buffer.alloc(SCRATCH_BYTES);
  private framesOut = 0;
  private readonly ptsByIndex = new Map<number, number>();
  /** Frames complete on stdout whose pts line has not been read yet (the two pipes race). */
  private readonly waitingForPts: { pixels: Buffer; index: number; arrivedAtMs: number }[] = [];
  private lastPts = -1;
  /** Index of the next frame to leave flushWaiting (frames leave in order). */
  private nextToEmit = 0;
  private fps = 25;
  private stopped = false;
  private paused = false;

  constructor(
    private readonly opts: DecoderOptions,
    private readonly cb: DecoderCallbacks,
  ) {
    this.started = this.start().catch((err: unknown) => {
      // No socket, no ffmpeg: the run hears it as any other decoder end (never synchronously, as before).
      this.frames?.destroy();
      if (this.stopped) return;
      this.stopped = true;
      this.cb.onExit(coerceError(err));
    });
  }

  private async start(): Promise<void> {
    const frames = await FrameSocket.open({ buffer: () => this.readTarget(), onRead: (n, buf) => this.onRead(n, buf) });
    if (this.stopped) {
      frames.destroy();
      return;
    }
    this.frames = frames;
    if (this.paused) frames.pause();
    const proc = new ManagedProcess<null>(resolveFfmpeg(), decoderArgs(this.opts), {
      secrets: secretsOfUrl(this.opts.source.url),
      logger: this.opts.logger,
      onStderrLine: (line) => this.onStderrLine(line),
      stdout: frames.forChild,
    });
    frames.releaseChildEnd();
    this.proc = proc;
    // 'exit' may come before we have read everything ffmpeg wrote (its last frames, its last words on
    // stderr, which classify the exit): judge the exit only once stdout and stderr are drained.
    const stderrDrained = finished(proc.child.stderr).catch(() => undefined);
    void Promise.all([proc.exited, frames.ended, stderrDrained]).then(([exit, stdoutError]) => {
      if (stdoutError) this.opts.logger.debug({ err: stdoutError.message }, 'decoder stdout');
      this.onExit(exit.code, proc.recentStderr());
    });
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get framesDecoded(): number {
    return this.framesOut;
  }

  /** Back-pressure for offline use (replay): a paused socket makes ffmpeg wait. Live runs never pause. */
  pause(): void {
    this.paused = true;
    this.frames?.pause();
  }

  resume(): void {
    this.paused = false;
    this.frames?.resume();
  }

  async stop(graceMs = 1000): Promise<unknown> {
    this.stopped = true;
    await this.started;
    const exit = await this.proc?.stop(graceMs);
    // Unread bytes (a paused replay) would hold the socket open for nothing.
    this.frames?.destroy();
    return exit;
  }

  private onStderrLine(line: string): void {
    const pts = parseFramePts(line);
    if (pts) {
      // A frame already sent (with an estimated pts) has no use for it; kept, it would never be removed.
      if (pts[0] >= this.nextToEmit) this.ptsByIndex.set(pts[0], pts[1]);
      this.flushWaiting(false);
      return;
    }
    const info = this.infoParser.feed(line);
    if (info) {
      if (info.width < 2 || info.height < 2) {
        this.cb.onExit(new SourceInvalidError(`source video has an unusable size ${info.width}x${info.height}`));
        void this.stop();
        return;
      }
      this.fps = info.fps;
      this.frameSize = yuv420pSize(info);
      this.cb.onInfo(info);
      // stdout may already hold bytes that arrived before the size was known
      this.drainEarly();
    } else if (/error|failed|refused|unauthorized|not found/i.test(line) && !line.startsWith('[Parsed_metadata')) {
      this.opts.logger.debug({ ffmpeg: line }, 'decoder stderr');
    }
  }

  private readonly early: Buffer[] = [];

  private drainEarly(): void {
    const chunks = this.early.splice(0);
    for (const c of chunks) this.onStdout(c);
  }

  /**
   * Where the socket reads next: the rest of the current frame, so the kernel writes the pixels in place
   * and no read allocates. Called after every read, so the next frame's buffer is taken when one ends.
   */
  private readTarget(): Buffer {
    if (this.frameSize === 0) return this.scratch;
    this.current ??= this.allocateFrame();
    return this.current.subarray(this.filled);
  }

  private onRead(nread: number, buf: Buffer): boolean {
    // Into the scratch buffer: read before the frame size was known (even if it is known now).
    if (buf === this.scratch) this.onStdout(buf.subarray(0, nread));
    else {
      this.filled += nread;
      if (this.filled === this.frameSize) this.frameDone();
    }
    return !this.paused;
  }

  private allocateFrame(): Buffer {
    // Shared memory: an inference worker reads the frame where it lies, no copy crosses the threads.
    return this.opts.allocateFrame?.(this.frameSize) ?? Buffer.from(new SharedArrayBuffer(this.frameSize));
  }

  /** Bytes that did not land in a frame buffer: kept (copied, the scratch buffer is reused) or copied into frames. */
  private onStdout(chunk: Buffer): void {
    if (this.frameSize === 0) {
      this.early.push(Buffer.from(chunk));
      return;
    }
    let offset = 0;
    while (offset < chunk.length) {
      this.current ??= this.allocateFrame();
      const n = Math.min(this.frameSize - this.filled, chunk.length - offset);
      chunk.copy(this.current, this.filled, offset, offset + n);
      this.filled += n;
      offset += n;
      if (this.filled === this.frameSize) this.frameDone();
    }
  }

  private frameDone(): void {
    this.waitingForPts.push({ pixels: this.current!, index: this.framesOut++, arrivedAtMs: preciseNowMs() });
    this.current = undefined;
    this.filled = 0;
    this.flushWaiting(false);
  }

  /** Emit frames in order once their pts is known; if stderr lags by several frames, estimate from the rate. */
  private flushWaiting(force: boolean): void {
    while (this.waitingForPts.length > 0) {
      const head = this.waitingForPts[0]!;
      let pts = this.ptsByIndex.get(head.index);
      if (pts === undefined) {
        if (!force && this.waitingForPts.length < 4) return;
        pts = this.lastPts < 0 ? 0 : this.lastPts + 1 / this.fps;
      }
      this.ptsByIndex.delete(head.index);
      this.waitingForPts.shift();
      this.nextToEmit = head.index + 1;
      this.lastPts = pts;
      if (!this.stopped) this.cb.onFrame(head.pixels, head.index, pts, head.arrivedAtMs);
    }
  }

  private onExit(code: number | null, stderr: readonly string[]): void {
    this.flushWaiting(true);
    if (this.stopped) return;
    this.stopped = true;
    if (code === 0 && !isRtspUrl(this.opts.source.url) && this.framesOut > 0) {
      this.cb.onExit(undefined);
      return;
    }
    this.opts.logger.warn({ stderr: stderr.slice(-8) }, 'decoder ffmpeg exited');
    this.cb.onExit(classifyDecoderExit(stderr, this.framesOut > 0, code));
  }
}
