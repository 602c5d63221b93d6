import { drawSlate } from '../drawing/slate.js';
import type { FrameRecord } from '../frame.js';
import { preciseNowMs } from '../clock.js';
import { frameOrigin, type FrameOrigin, type FrameOutput } from './frameTimings.js';
import type { SieError } from '../errors.js';
import type { Logger } from '../log.js';
import type { OutputCount } from './runStore.js';

/** ffmpeg #2 as the clock sees it (src/io/ffmpeg/encoder.ts): raw pictures in, without ever blocking. */
export interface OutputEncoder {
  readonly pid: number | undefined;
  /** False while the encoder has not taken the previous picture (nothing was written). `onWritten`: the
   *  pipe no longer holds `picture`. */
  tryWrite(picture: Buffer, onWritten?: () => void): boolean;
  onceWritable(cb: () => void): void;
  stop(): Promise<unknown>;
}

export interface OutputEncoderHooks {
  /** One encoded picture's NAL units (only an encoder writing to our pipe gives them back). */
  onAccessUnit(nalus: Buffer[]): void;
  onExit(err: SieError | undefined): void;
}

/** Where encoded pictures go when the encoder gives them back: the embedded RTSP server's mount. */
export interface AccessUnitSink {
  writeAccessUnit(nalus: Buffer[], ptsS: number): void;
}

export interface OutputClockOptions {
  fps: number;
  width: number;
  height: number;
  /** Starts ffmpeg #2 (again, after it died). */
  startEncoder(hooks: OutputEncoderHooks): OutputEncoder;
  /** The embedded server's mount, or undefined when ffmpeg pushes to an external server itself. */
  sink: AccessUnitSink | undefined;
  /** Called for each picture: the next annotated frame, if one is ready (the caller decides which: the run's
   *  publisher actor takes the oldest of its two slots, see src/actors/publisher.ts). The caller calls
   *  frameReady() when one becomes ready; without that, new frames wait for the clock's next repeat tick. */
  nextFrame(): FrameRecord | undefined;
  count(what: OutputCount): void;
  /** Frames the source has sent that are still in the stages (decoded, not yet drawn or dropped). While
   *  one is, a late frame is known to be coming: the clock holds the last picture a while longer instead
   *  of repeating it (see HOLD_FOR_FRAME_PERIODS). Without it, the clock never waits. */
  framesOnTheWay?(): number;
  /** A frame's pixels the clock is done with: no longer its last picture, no write of them pending (the
   *  run's frame pool takes them back). Never called for slate pictures, which are the clock's own. */
  releasePicture?(pixels: Buffer): void;
  /** Each new frame once its access unit went to the sink (never for repeats or slates; only with a sink:
   *  a push output gives no access units back). Called on the clock's thread: must not block. */
  onFrameSent?(t: FrameOutput): void;
  /** Without a sink (ffmpeg #2 pushes): each new frame when ffmpeg #2 has taken it, the last we see of it. */
  onFramePushed?(t: FrameOutput): void;
  /** A new frame that never went out: replaced while it waited for a busy encoder, or taken by an encoder
   *  that died before giving it back. Only for frames whose origin is kept (onFrameSent or onFramePushed). */
  onFrameLost?(f: FrameOrigin, atMs: number): void;
  logger: Logger;
  onFatal(err: SieError): void;
}

/** After this long without a new frame (or at once when told the source is lost) the output shows a slate. */
const SLATE_AFTER_MS = 1500;

/** An encoder that dies more often than this within the window is broken, not unlucky: the run fails. */
const MAX_ENCODER_RESTARTS = 5;
const ENCODER_RESTART_WINDOW_MS = 60_000;

/** A frame that comes this late (in periods after the last picture) is replaced by a repeat of the last;
 *  while none come, a repeat (or the slate) goes out every period. */
const REPEAT_AFTER_PERIODS = 1.5;
/** With a frame on its way through the stages, the last picture is held up to this long (in periods after
 *  it) before a repeat goes out. Detecting on every n-th frame makes those frames a detection later than
 *  the others (1080p: ~25 ms, 0.6 of a period at 25 fps; more under load): repeating the picture before
 *  each of them sent a repeat and the frame a few ms apart, 20% more pictures for x264 (measured: 30 fps
 *  out of 25 in, live 1080p@25, detection on every 3rd frame) and none of them new. */
const HOLD_FOR_FRAME_PERIODS = 3;
/** Two pictures go out at least this far apart (in periods): a burst of late frames is spread, not sent at once. */
const MIN_GAP_PERIODS = 0.5;

/**
 * The output clock. ffmpeg numbers raw frames by arrival, so the output's timing is ours. A new annotated
 * frame goes out the moment it is ready (frameReady), at most one per half period; when the next is half a
 * period late (three periods while one is still in the stages), the last picture is repeated, then every period, and a "signal lost" slate replaces it when
 * the source is gone. The stream therefore stays up, at the source's rate, whether or not frames arrive
 * and whether or not anyone watches, and a frame never waits for a clock tick: a constant-rate grid made
 * each frame wait up to a period for its tick, and a frame that once missed its tick put every later one
 * a whole period behind (measured: 134 ms of output wait at 10 fps). Pts stay on the 1/fps grid, taken
 * from the wall clock at each picture, one slot further on when two fall in one.
 */
export class OutputClock {
  private encoder: OutputEncoder;
  /** When ffmpeg #2 was restarted lately (see encoderDied). */
  private restarts: number[] = [];
  private readonly periodMs: number;
  private readonly startMs = performance.now();
  /** The clock's own timer: the next repeat (or the first picture). */
  private timer: NodeJS.Timeout | undefined;
  /** A ready frame waiting for MIN_GAP_PERIODS since the last picture. */
  private frameTimer: NodeJS.Timeout | undefined;
  private lastPictureAtMs: number;
  private lastPictureWasNew = false;
  /** The 1/fps slot of the last picture's pts. */
  private lastSlot = -1;
  private last: Buffer | undefined;
  private lastNewAtMs = performance.now();
  private sourceLostAtMs: number | undefined;
  private slate: { buf: Buffer; second: number } | undefined;
  /** Pictures handed to ffmpeg, in order: the k-th access unit out belongs to the k-th entry. `frame`: a new
   *  frame's timing so far, only when timings are asked for (repeats and slates have none). */
  private readonly inFlight: { ptsS: number; frame?: FrameOrigin & { handedAtMs: number } }[] = [];
  private stopped = false;
  /** A picture waiting for ffmpeg #2 to take the previous one (see send()). */
  private pending: { picture: Buffer; ptsS: number; frame?: FrameOrigin } | undefined;
  private waitingForEncoder = false;
  /** Frames' pixels the clock holds, with the writes of them still in the pipe (see releaseIfDone). */
  private readonly held = new Map<Buffer, number>();

  constructor(private readonly o: OutputClockOptions) {
    this.periodMs = 1000 / o.fps;
    // The first tick at once: the publisher starts the clock holding its first frame.
    this.lastPictureAtMs = this.startMs - this.periodMs;
    this.encoder = this.startEncoder();
    this.schedule();
  }

  private startEncoder(): OutputEncoder {
    const encoder: OutputEncoder = this.o.startEncoder({
      // A dead encoder's last words may still be in its pipe after the new one started: not ours any more.
      onAccessUnit: (nalus) => {
        if (encoder === this.encoder) this.onAccessUnit(nalus);
      },
      onExit: (err) => {
        if (!this.stopped && err && encoder === this.encoder) this.encoderDied(err);
      },
    });
    return encoder;
  }

  /**
   * ffmpeg #2 died under us (killed from outside, crashed): start another one. The clock, the mount and
   * its readers stay; the new encoder begins with a keyframe and its parameter sets, so readers carry on
   * after a short gap. Only an encoder that keeps dying ends the run.
   */
  private encoderDied(err: SieError): void {
    const now = performance.now();
    this.restarts = this.restarts.filter((t) => now - t < ENCODER_RESTART_WINDOW_MS);
    if (this.restarts.length >= MAX_ENCODER_RESTARTS) {
      this.o.logger.error({ restarts: this.restarts.length }, 'encoder ffmpeg keeps dying: giving up');
      this.o.onFatal(err);
      return;
    }
    this.restarts.push(now);
    this.o.logger.warn({ err: err.message }, 'encoder ffmpeg died: starting a new one');
    // Pictures the dead encoder had taken never come out: their pts must not be paired with the new one's.
    const lostAtMs = preciseNowMs();
    for (const e of this.inFlight) if (e.frame) this.o.onFrameLost?.(e.frame, lostAtMs);
    this.inFlight.length = 0;
    if (this.pending?.frame) this.o.onFrameLost?.(this.pending.frame, lostAtMs);
    const dropped = this.pending?.picture;
    this.pending = undefined;
    this.waitingForEncoder = false;
    if (dropped) this.releaseIfDone(dropped);
    this.encoder = this.startEncoder();
  }

  sourceLost(): void {
    this.sourceLostAtMs ??= performance.now();
  }

  sourceRestored(): void {
    this.sourceLostAtMs = undefined;
    this.slate = undefined;
  }

  get encoderPid(): number | undefined {
    return this.encoder.pid;
  }

  /**
   * A frame is waiting for the output (the run's output queue just got one): it goes out now, or once half
   * a period has passed since the last picture.
   */
  frameReady(): void {
    if (this.stopped || this.frameTimer) return;
    const wait = this.lastPictureAtMs + MIN_GAP_PERIODS * this.periodMs - performance.now();
    if (wait <= 0) this.onTick('frame');
    else this.frameTimer = setTimeout(() => this.onTick('frame'), wait);
  }

  /** The clock's next tick, counted from the last picture: a repeat when no new frame has come by then. */
  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const after = (this.lastPictureWasNew ? REPEAT_AFTER_PERIODS : 1) * this.periodMs;
    this.timer = setTimeout(() => this.onTick('clock'), Math.max(0, this.lastPictureAtMs + after - performance.now()));
  }

  private onTick(why: 'clock' | 'frame'): void {
    if (this.stopped) return;
    clearTimeout(this.frameTimer);
    this.frameTimer = undefined;
    const frame = this.o.nextFrame();
    // Told of a frame that the clock's own tick has taken since: nothing to send.
    if (why === 'frame' && !frame) return;
    const now = performance.now();
    if (!frame && this.holdForFrameOnTheWay(now)) return;
    let picture: Buffer | undefined;
    let origin: FrameOrigin | undefined;
    if (frame) {
      const previous = this.last;
      this.last = frame.pixels;
      if (!this.held.has(frame.pixels)) this.held.set(frame.pixels, 0);
      if (previous) this.releaseIfDone(previous);
      this.lastNewAtMs = now;
      picture = frame.pixels;
      if (this.o.sink ? this.o.onFrameSent : this.o.onFramePushed) origin = frameOrigin(frame);
    } else if (this.last) {
      const lostFor = this.sourceLostAtMs !== undefined ? now - this.sourceLostAtMs : now - this.lastNewAtMs;
      if (this.sourceLostAtMs !== undefined || lostFor > SLATE_AFTER_MS) {
        picture = this.slatePicture(Math.floor(Math.max(lostFor, now - this.lastNewAtMs) / 1000));
        this.o.count('framesSlate');
      } else {
        picture = this.last;
        this.o.count('framesRepeated');
      }
    }
    this.lastPictureAtMs = now;
    this.lastPictureWasNew = frame !== undefined;
    if (picture) this.send(picture, this.nextPtsS(now), origin);
    // Frames that came while this one waited for its half period are still queued, and no frameReady() is
    // coming for them: look again in half a period (nothing happens if none is there). Without this, one
    // frame stayed queued behind each new one for good: every frame a period late (measured at 1080p).
    if (why === 'frame' && frame) this.frameTimer = setTimeout(() => this.onTick('frame'), MIN_GAP_PERIODS * this.periodMs);
    this.schedule();
  }

  /** A repeat is due but a frame is still in the stages and the last new picture is recent: wait for it
   *  (frameReady() sends it the moment it is drawn), looking again at the end of the hold. */
  private holdForFrameOnTheWay(now: number): boolean {
    if (!this.lastPictureWasNew || this.sourceLostAtMs !== undefined || !((this.o.framesOnTheWay?.() ?? 0) > 0)) return false;
    const until = this.lastPictureAtMs + HOLD_FOR_FRAME_PERIODS * this.periodMs;
    if (now >= until) return false;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onTick('clock'), until - now);
    return true;
  }

  /** The picture's pts: the 1/fps slot nearest to now, or the one after the last picture's when that is later. */
  private nextPtsS(now: number): number {
    this.lastSlot = Math.max(this.lastSlot + 1, Math.round((now - this.startMs) / this.periodMs));
    return this.lastSlot / this.o.fps;
  }

  /**
   * Hands a picture to ffmpeg #2, or, while it has not taken the previous one yet, holds it and sends it
   * the moment it has: a brief stall of the encoder then costs no picture, only a little delay. At most
   * one picture waits; a newer one replaces it (counted as dropped), so nothing queues up.
   */
  private send(picture: Buffer, ptsS: number, frame?: FrameOrigin): void {
    const writes = this.held.get(picture);
    const onWritten =
      writes === undefined
        ? undefined
        : () => {
            this.held.set(picture, (this.held.get(picture) ?? 1) - 1);
            this.releaseIfDone(picture);
          };
    if (this.encoder.tryWrite(picture, onWritten)) {
      if (writes !== undefined) this.held.set(picture, writes + 1);
      this.o.count('framesOut');
      // Only the embedded server's pipe gives access units back to pair with these; a push output never
      // does, and the list would grow by one entry per output frame for as long as the run lives.
      if (this.o.sink) this.inFlight.push({ ptsS, frame: frame && { ...frame, handedAtMs: preciseNowMs() } });
      else if (frame) {
        const at = preciseNowMs();
        this.o.onFramePushed?.({ ...frame, handedAtMs: at, outputPtsS: ptsS, accessUnitAtMs: at, sentAtMs: at, pushed: true });
      }
      return;
    }
    const replaced = this.pending?.picture;
    if (this.pending) this.o.count('droppedEncoderBusy');
    // A repeat of a new frame still waiting is that frame's first showing: its timing goes with it.
    const carried = replaced === picture ? this.pending?.frame : undefined;
    if (this.pending?.frame && !carried) this.o.onFrameLost?.(this.pending.frame, preciseNowMs());
    this.pending = { picture, ptsS, frame: frame ?? carried };
    if (replaced && replaced !== picture) this.releaseIfDone(replaced);
    if (this.waitingForEncoder) return;
    this.waitingForEncoder = true;
    const encoder = this.encoder;
    encoder.onceWritable(() => {
      // Replaced meanwhile (encoderDied): the new one's own wait, if any, decides.
      if (encoder !== this.encoder) return;
      this.waitingForEncoder = false;
      const held = this.pending;
      this.pending = undefined;
      if (held && !this.stopped) this.send(held.picture, held.ptsS, held.frame);
    });
  }

  /** Hands a frame's pixels back once nothing here uses them: not the last picture, not waiting to be
   *  sent, not in the encoder's pipe. A buffer given back too early would be overwritten by the decoder. */
  private releaseIfDone(pixels: Buffer): void {
    const writes = this.held.get(pixels);
    if (writes === undefined || writes > 0 || pixels === this.last || pixels === this.pending?.picture) return;
    this.held.delete(pixels);
    this.o.releasePicture?.(pixels);
  }

  private slatePicture(seconds: number): Buffer {
    if (!this.slate || this.slate.second !== seconds) {
      // A copy: the last frame may still be in the encoder's pipe. Glyphs were rasterised by prepareSlate().
      const buf = Buffer.from(this.last!);
      drawSlate({ pixels: buf, width: this.o.width, height: this.o.height }, ['SIGNAL LOST', `${seconds} s`]);
      this.slate = { buf, second: seconds };
    }
    return this.slate.buf;
  }

  /** The k-th access unit out of ffmpeg #2 is the k-th picture written to it (see inFlight): pts on the 1/fps
   *  grid, no B-frames, one picture in, one access unit out, in order. That is how an encoded picture is
   *  matched to the FrameRecord it came from; a repeat or a slate has no frame, and gives no timing. */
  private onAccessUnit(nalus: Buffer[]): void {
    const entry = this.inFlight.shift();
    const accessUnitAtMs = entry?.frame ? preciseNowMs() : 0;
    this.o.count('accessUnitsOut');
    const ptsS = entry?.ptsS ?? (this.lastSlot + 1) / this.o.fps;
    this.o.sink?.writeAccessUnit(nalus, ptsS);
    if (entry?.frame) this.o.onFrameSent?.({ ...entry.frame, outputPtsS: ptsS, accessUnitAtMs, sentAtMs: preciseNowMs(), pushed: false });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.frameTimer);
    await this.encoder.stop();
  }
}
