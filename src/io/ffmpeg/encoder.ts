import { resolveFfmpeg } from './binary.js';
import { ManagedProcess } from './process.js';
import { FlvFormatError, FlvVideoDemuxer } from './flvVideo.js';
import { InternalError, type SieError } from '../../errors.js';
import { secretsOfUrl } from '../../redact.js';
import type { Logger } from '../../log.js';

export interface EncoderSettings {
  /** x264 preset; ultrafast keeps a 1080p frame at ~5 ms of one core. */
  preset: string;
  /** Target bitrate; undefined = derived from the picture size and rate. */
  bitrateKbps?: number;
  /** Keyframe interval in seconds: short, so a late reader waits little (the server caches one GOP). */
  keyframeIntervalS: number;
  /** Encoder threads; 1 keeps each run's cost predictable when many share the machine. */
  threads: number;
}

export const defaultEncoderSettings: EncoderSettings = { preset: 'ultrafast', keyframeIntervalS: 2, threads: 1 };

/** Where ffmpeg #2 sends H.264: back to us over its stdout as FLV (for the embedded server), straight to an
 *  RTSP server, or to a file. */
export type EncoderOutput = { kind: 'pipe' } | { kind: 'push'; url: string } | { kind: 'file'; path: string };

export interface EncoderOptions {
  width: number;
  height: number;
  fps: number;
  settings: EncoderSettings;
  output: EncoderOutput;
  logger: Logger;
  /** One encoded picture (NAL units without start codes or length prefixes, no AUD), in input order, as soon
   *  as ffmpeg has written it; an IDR one begins with SPS and PPS. Only for output 'pipe'. */
  onAccessUnit?(nalus: Buffer[]): void;
  onExit(error: SieError | undefined): void;
}

export function defaultBitrateKbps(width: number, height: number, fps: number): number {
  // ~0.1 bit per pixel per frame: clear boxes and text at surveillance motion, bounded for 4K.
  return Math.round(Math.min(20_000, Math.max(400, (width * height * fps * 0.1) / 1000)));
}

export function encoderArgs(o: Pick<EncoderOptions, 'width' | 'height' | 'fps' | 'settings' | 'output'>): string[] {
  const s = o.settings;
  const gop = Math.max(1, Math.round(s.keyframeIntervalS * o.fps));
  const kbps = s.bitrateKbps ?? defaultBitrateKbps(o.width, o.height, o.fps);
  const args = ['-hide_banner', '-nostats', '-loglevel', 'warning'];
  args.push('-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${o.width}x${o.height}`, '-framerate', String(o.fps), '-i', 'pipe:0');
  args.push('-an', '-c:v', 'libx264', '-preset', s.preset, '-tune', 'zerolatency', '-bf', '0');
  args.push('-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0', '-threads', String(s.threads));
  args.push('-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`, '-pix_fmt', 'yuv420p');
  if (o.output.kind === 'pipe') {
    // FLV, not Annex B: each picture is one tag that states its size, so it is whole the moment its last
    // byte arrives; an Annex B stream only shows a picture ended when the next one begins, a frame period
    // later. -flush_packets 1: each tag leaves ffmpeg as soon as it is muxed. FLV sets the global-header
    // flag, so libx264 puts SPS/PPS in the configuration record only (repeat-headers off) and FlvVideoDemuxer
    // puts them back before every IDR; no AUD either: the tags are the framing, and the mount drops AUDs.
    args.push('-flush_packets', '1', '-f', 'flv', 'pipe:1');
    return args;
  }
  // repeat-headers: SPS/PPS before every IDR so any reader can start at any keyframe (the RTSP and MP4
  // muxers set the global-header flag, which would otherwise keep them out of band); AUD before every
  // access unit for readers that split the stream on them.
  args.push('-x264-params', 'repeat-headers=1', '-bsf:v', 'h264_metadata=aud=insert');
  if (o.output.kind === 'push') args.push('-f', 'rtsp', '-rtsp_transport', 'tcp', o.output.url);
  else args.push('-movflags', '+faststart', '-y', o.output.path);
  return args;
}

/**
 * ffmpeg #2: raw yuv420p frames in, H.264 out. Back-pressure is explicit: a frame is written only when the
 * previous one has left our side of the pipe, otherwise the caller drops it and counts it. Nothing queues.
 */
export class FfmpegEncoder {
  private readonly proc: ManagedProcess;
  private stopped = false;
  /** ffmpeg's stdout has closed: every byte it wrote has been read ('exit' may come before the last ones). */
  private readonly outputClosed: Promise<void>;
  framesWritten = 0;
  accessUnits = 0;

  constructor(private readonly opts: EncoderOptions) {
    const secrets = opts.output.kind === 'push' ? secretsOfUrl(opts.output.url) : [];
    // Files are written with ffmpeg's own muxer; the -c/-b settings above still apply.
    this.proc = new ManagedProcess(resolveFfmpeg(), encoderArgs(opts), {
      secrets,
      logger: opts.logger,
      onStderrLine: (line) => opts.logger.debug({ ffmpeg: line }, 'encoder stderr'),
    });
    const stdout = this.proc.child.stdout;
    this.outputClosed = new Promise((resolve) => stdout.once('close', () => resolve()));
    if (opts.output.kind === 'pipe') {
      // Each access unit is handed on as soon as its tag is complete; a tag cut short by the process's end
      // never is, so there is nothing to flush when it exits.
      const demuxer = new FlvVideoDemuxer((nalus) => {
        this.accessUnits++;
        opts.onAccessUnit?.(nalus);
      });
      const onData = (chunk: Buffer): void => {
        try {
          demuxer.push(chunk);
        } catch (err) {
          // Only the stream's own errors; one thrown by onAccessUnit is the caller's and goes on up.
          if (!(err instanceof FlvFormatError)) throw err;
          stdout.off('data', onData);
          stdout.resume();
          this.unreadable(err);
        }
      };
      stdout.on('data', onData);
    } else {
      stdout.resume();
    }
    void this.proc.exited.then((exit) => {
      if (this.stopped) return;
      // Died on its own (killed, crashed).
      this.stopped = true;
      const stderr = this.proc.recentStderr();
      opts.logger.error({ code: exit.code, signal: exit.signal, stderr: stderr.slice(-8) }, 'encoder ffmpeg exited');
      opts.onExit(new InternalError(`encoder exited (code ${exit.code}): ${stderr.at(-1) ?? 'no output'}`));
    });
  }

  /** Output we cannot read: as good as dead, so it is stopped and reported like an encoder that died. */
  private unreadable(err: FlvFormatError): void {
    if (this.stopped) return;
    this.stopped = true;
    this.opts.logger.error({ err: err.message }, 'encoder output is not the FLV we asked for');
    void this.proc.stop(0);
    this.opts.onExit(err);
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Bytes written but not yet taken by ffmpeg. */
  get backlogBytes(): number {
    return this.proc.child.stdin.writableLength;
  }

  /** Offline use (replay): writes one frame and waits until ffmpeg has taken it, so that the caller may
   *  reuse `pixels` (the stream holds the buffer, not a copy, until then). Never drops. */
  async write(pixels: Buffer): Promise<void> {
    if (this.stopped || this.proc.hasExited) throw new InternalError('encoder is not running');
    this.framesWritten++;
    const child = this.proc.child;
    await new Promise<void>((resolve) => {
      const done = () => {
        child.off('exit', done);
        resolve();
      };
      child.once('exit', done);
      child.stdin.write(pixels, done);
    });
  }

  /** Offline use: close stdin and wait for ffmpeg to finish the file (for 'pipe': until every access unit
   *  it wrote has gone to onAccessUnit). */
  async finish(): Promise<number | null> {
    this.stopped = true;
    this.proc.child.stdin.end();
    const [exit] = await Promise.all([this.proc.exited, this.outputClosed]);
    return exit.code;
  }

  /** Stopped, exited (perhaps not yet reported through onExit) or its stdin gone: it takes nothing more. */
  private get dead(): boolean {
    return this.stopped || this.proc.hasExited || this.proc.child.stdin.destroyed;
  }

  /**
   * Calls `cb` once ffmpeg has taken everything written so far (soon if it already has); never for an
   * encoder that is dead or dies meanwhile. A dead encoder's pipe is empty, and answering "writable" at
   * once would have a caller retry tryWrite (false again) in a hot loop until the encoder is replaced or
   * stopped; whoever replaces it drives the new one instead.
   */
  onceWritable(cb: () => void): void {
    if (this.dead) return;
    const stdin = this.proc.child.stdin;
    const fire = () => {
      if (!this.dead) cb();
    };
    if (stdin.writableLength === 0) setImmediate(fire);
    else stdin.once('drain', fire);
  }

  /**
   * Writes one frame if ffmpeg has taken the previous one; false = busy, the caller drops this frame.
   * `onWritten` is called once the pipe no longer holds `pixels` (written, or the encoder is gone).
   */
  tryWrite(pixels: Buffer, onWritten?: () => void): boolean {
    if (this.dead) return false;
    if (this.proc.child.stdin.writableLength > 0) return false;
    this.proc.child.stdin.write(pixels, onWritten && (() => onWritten()));
    this.framesWritten++;
    return true;
  }

  stop(graceMs = 1000): Promise<unknown> {
    this.stopped = true;
    return this.proc.stop(graceMs);
  }
}
