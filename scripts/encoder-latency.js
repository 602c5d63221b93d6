// Latency of ffmpeg #2's pipe output, as the embedded server sees it: the time from writing a picture to
// FfmpegEncoder until its access unit reaches onAccessUnit. A measurement to run by hand, never a test
// (no pass/fail, machines differ). Runs the compiled code: `npx tsc -p tsconfig.json` first.
//
//   node scripts/encoder-latency.js [fps=10] [frames=100] [width=640] [height=360]
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { FfmpegEncoder, defaultEncoderSettings } from '../dist/io/ffmpeg/encoder.js';
import { silentLogger } from '../dist/log.js';

const [fps = 10, frames = 100, width = 640, height = 360] = process.argv.slice(2).map(Number);
const periodMs = 1000 / fps;
const writtenAt = [];
const latencies = [];
let exitError;

const encoder = new FfmpegEncoder({
  width,
  height,
  fps,
  settings: defaultEncoderSettings,
  output: { kind: 'pipe' },
  logger: silentLogger,
  // The k-th access unit belongs to the k-th picture written (no B-frames), as in src/pipeline/outputClock.ts.
  onAccessUnit: () => latencies.push(performance.now() - writtenAt[latencies.length]),
  onExit: (err) => (exitError = err),
});

/** A picture that changes every frame (a moving gradient plus a little noise), so x264 has real work. */
function picture(k) {
  const buf = Buffer.alloc((width * height * 3) / 2, 128);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) buf[y * width + x] = (x + y + 4 * k + ((x * 7919 + y * 104729 + k) % 13)) & 0xff;
  }
  return buf;
}

const t0 = performance.now();
for (let k = 0; k < frames && !exitError; k++) {
  const pixels = picture(k);
  const wait = t0 + k * periodMs - performance.now();
  if (wait > 0) await sleep(wait);
  writtenAt.push(performance.now());
  if (!encoder.tryWrite(pixels)) writtenAt.pop();
}
await sleep(1000);
await encoder.stop();
if (exitError) throw exitError;

const sorted = [...latencies].sort((a, b) => a - b);
const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const ms = (v) => (v === undefined ? 'n/a' : `${v.toFixed(1)} ms`);
console.log(`${width}x${height} @ ${fps} fps: ${writtenAt.length} written, ${latencies.length} access units`);
console.log(`write → onAccessUnit: p50 ${ms(q(0.5))}, p90 ${ms(q(0.9))}, max ${ms(sorted.at(-1))}`);
