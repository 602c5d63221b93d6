import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { resolveFfmpeg } from '../io/ffmpeg/binary.js';
import { defaultEncoderSettings, encoderArgs } from '../io/ffmpeg/encoder.js';
import { createDetector } from '../inference/detector.js';
import { yuv420pSize } from '../frame.js';
import type { Detections } from '../detections.js';

/**
 * The loop every team writes first, as the baseline `sie bench` compares with: read a raw frame from an
 * ffmpeg pipe, run the model on it, draw its boxes, write it to an ffmpeg pipe and wait until it is
 * taken, then the next frame: each step waits for the one before, nothing overlaps. It uses our
 * detector (the same pre- and post-processing) on the event loop and our x264 settings, so the
 * difference to `sie replay` is the pipeline's structure alone.
 */

/** Raw frames of `size` bytes from a pipe, each a fresh Buffer (as such a loop reads them). */
async function* rawFrames(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let buf = Buffer.alloc(0);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= size) {
      yield buf.subarray(0, size);
      buf = buf.subarray(size);
    }
  }
}

/** A 2-px white rectangle on the luma plane per box: what such a loop draws. */
function drawBoxes(pixels: Buffer, width: number, height: number, d: Detections): void {
  const clampX = (v: number) => Math.max(0, Math.min(width - 1, Math.round(v)));
  const clampY = (v: number) => Math.max(0, Math.min(height - 1, Math.round(v)));
  for (let i = 0; i < d.count; i++) {
    const [x1, y1, x2, y2] = [clampX(d.xyxy[4 * i]!), clampY(d.xyxy[4 * i + 1]!), clampX(d.xyxy[4 * i + 2]!), clampY(d.xyxy[4 * i + 3]!)];
    for (let t = 0; t < 2; t++) {
      pixels.fill(255, Math.min(y1 + t, height - 1) * width + x1, Math.min(y1 + t, height - 1) * width + x2 + 1);
      pixels.fill(255, Math.max(y2 - t, 0) * width + x1, Math.max(y2 - t, 0) * width + x2 + 1);
      for (let y = y1; y <= y2; y++) {
        pixels[y * width + Math.min(x1 + t, width - 1)] = 255;
        pixels[y * width + Math.max(x2 - t, 0)] = 255;
      }
    }
  }
}

export interface NaiveLoopOptions {
  video: string;
  width: number;
  height: number;
  fps: number;
  model: string;
  labels: string;
  /** Where the annotated video goes (an .mp4). */
  out: string;
  /** Told once the model is loaded and the first frame is about to be read. */
  onStart?(): void;
}

export async function runNaiveLoop(o: NaiveLoopOptions): Promise<{ frames: number; seconds: number }> {
  const detector = await createDetector({ weightsPath: o.model, labels: o.labels, threads: 1, warmup: true });
  const size = yuv420pSize(o);
  const decoder = spawn(resolveFfmpeg(), ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', o.video, '-an', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const encoder = spawn(resolveFfmpeg(), encoderArgs({ width: o.width, height: o.height, fps: o.fps, settings: defaultEncoderSettings, output: { kind: 'file', path: o.out } }), {
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  const encoderDone = new Promise<number | null>((resolve) => encoder.once('close', resolve));
  o.onStart?.();
  const t0 = performance.now();
  let frames = 0;
  for await (const pixels of rawFrames(decoder.stdout, size)) {
    const d = await detector.detect({ pixels, width: o.width, height: o.height });
    drawBoxes(pixels, o.width, o.height, d);
    await new Promise<void>((resolve, reject) => encoder.stdin.write(pixels, (err) => (err ? reject(err) : resolve())));
    frames++;
  }
  encoder.stdin.end();
  const code = await encoderDone;
  if (code !== 0) throw new Error(`the naive loop's encoder exited with ${code}`);
  return { frames, seconds: (performance.now() - t0) / 1000 };
}
