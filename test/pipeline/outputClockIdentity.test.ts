import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { OutputClock, type AccessUnitSink } from '../../src/pipeline/outputClock.js';
import type { FrameOutput } from '../../src/pipeline/frameTimings.js';
import { FfmpegEncoder, defaultEncoderSettings } from '../../src/io/ffmpeg/encoder.js';
import { resolveFfmpeg } from '../../src/io/ffmpeg/binary.js';
import { prepareSlate } from '../../src/drawing/slate.js';
import type { FrameRecord } from '../../src/frame.js';
import { silentLogger } from '../../src/log.js';
import { testFrame } from '../helpers/frames.js';
import { newCounters } from '../helpers/outputClock.js';
import { sleep, until } from '../helpers/processes.js';

/**
 * A frame's identity across ffmpeg #2, with the real encoder: every new frame is a flat picture of its own
 * brightness, and the access units that come back are decoded again, so each one's picture says which
 * frame (or repeat, or slate) it really is. The output clock pairs the k-th access unit with the k-th
 * picture written (pts on the 1/fps grid, no B-frames: one picture in, one access unit out, in order);
 * a new frame's timing, and so its trace, must sit on its own access unit, never on a repeat or a slate.
 *
 * Repeats and slates are not frames: they give no timing and no span. A frame's trace ends at its first
 * showing; the repeats of it that follow while no new frame comes are counted (framesRepeated), not traced.
 */

const W = 64;
const H = 64;
const FPS = 20;
const PERIOD_MS = 1000 / FPS;
/** Frame i's brightness: far enough apart to tell any two (and a dimmed slate) after H.264. */
const luma = (i: number) => 40 + 14 * i;

function flatFrame(i: number): FrameRecord {
  const f = testFrame({ frameId: i, width: W, height: H, fill: 128 });
  f.pixels.fill(luma(i), 0, W * H);
  f.trace = { traceId: i.toString(16).padStart(32, '0'), spanId: (i + 1).toString(16).padStart(16, '0'), sampled: true };
  return f;
}

/** Decodes an Annex B stream back to yuv420p pictures: the mean luma of each, in output order. */
function decodedMeans(units: Buffer[][]): number[] {
  const start = Buffer.from([0, 0, 0, 1]);
  const annexB = Buffer.concat(units.flatMap((nalus) => nalus.flatMap((n) => [start, n])));
  const r = spawnSync(resolveFfmpeg(), ['-v', 'error', '-f', 'h264', '-i', 'pipe:0', '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'], {
    input: annexB,
    maxBuffer: 64 * 1024 * 1024,
  });
  expect(r.status, r.stderr.toString()).toBe(0);
  const out: number[] = [];
  for (let off = 0; off + (W * H * 3) / 2 <= r.stdout.length; off += (W * H * 3) / 2) {
    let sum = 0;
    for (let i = off; i < off + W * H; i++) sum += r.stdout[i]!;
    out.push(sum / (W * H));
  }
  return out;
}

let clock: OutputClock | undefined;
afterEach(async () => {
  await clock?.stop();
  clock = undefined;
});

describe('output clock with the real ffmpeg #2: each access unit matched to the FrameRecord it came from', () => {
  it('new frames, repeats and slates: every timing (and trace) sits on its own frame\'s access unit', async () => {
    await prepareSlate({ width: W, height: H });
    const counters = newCounters();
    const units: { nalus: Buffer[]; ptsS: number }[] = [];
    const sent: { out: FrameOutput; unit: number }[] = [];
    const ready: FrameRecord[] = [];
    const sink: AccessUnitSink = { writeAccessUnit: (nalus, ptsS) => void units.push({ nalus: nalus.map((n) => Buffer.from(n)), ptsS }) };
    clock = new OutputClock({
      fps: FPS,
      width: W,
      height: H,
      startEncoder: (hooks) =>
        new FfmpegEncoder({ width: W, height: H, fps: FPS, settings: { ...defaultEncoderSettings, keyframeIntervalS: 1 }, output: { kind: 'pipe' }, logger: silentLogger, ...hooks }),
      sink,
      nextFrame: () => ready.shift(),
      count: (what) => counters[what]++,
      onFrameSent: (out) => sent.push({ out, unit: units.length - 1 }),
      logger: silentLogger,
      onFatal: (err) => {
        throw err;
      },
    });
    const give = async (i: number, thenWaitPeriods: number) => {
      ready.push(flatFrame(i));
      clock!.frameReady();
      await sleep(thenWaitPeriods * PERIOD_MS);
    };
    // Frames 0–3 one period apart; frame 4 after a gap (repeats of 3); then the source is lost (slates
    // over frame 4) and comes back with frames 5–7.
    for (let i = 0; i < 4; i++) await give(i, 1);
    await sleep(4 * PERIOD_MS);
    await give(4, 2);
    clock.sourceLost();
    await sleep(5 * PERIOD_MS);
    clock.sourceRestored();
    for (let i = 5; i < 8; i++) await give(i, 1);
    await until(() => sent.length === 8, 10_000, 'the eight frames out of ffmpeg #2');
    await sleep(3 * PERIOD_MS);
    await clock.stop();
    clock = undefined;

    expect(counters.framesRepeated).toBeGreaterThan(0);
    expect(counters.framesSlate).toBeGreaterThan(0);
    expect(sent.map((s) => s.out.frameId)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const means = decodedMeans(units.map((u) => u.nalus));
    expect(means.length).toBe(units.length);

    const timed = new Map(sent.map((s) => [s.unit, s.out]));
    let lastNew = -1;
    let repeats = 0;
    let slates = 0;
    means.forEach((mean, k) => {
      const out = timed.get(k);
      if (out) {
        // The access unit its timing was paired with is that frame's picture, with the pts the sink got.
        expect(mean, `access unit ${k}: frame ${out.frameId}`).toBeCloseTo(luma(out.frameId), -0.5);
        expect(out.outputPtsS).toBe(units[k]!.ptsS);
        expect(out.trace).toEqual(flatFrame(out.frameId).trace);
        lastNew = out.frameId;
      } else if (Math.abs(mean - luma(lastNew)) < 3) {
        repeats++;
      } else {
        // A slate: the last frame dimmed, with its text band.
        expect(mean, `access unit ${k}: a slate over frame ${lastNew}`).toBeLessThan(luma(lastNew) - 5);
        slates++;
      }
    });
    expect(repeats).toBeGreaterThan(0);
    expect(slates).toBeGreaterThan(0);
    expect(repeats + slates + sent.length).toBe(units.length);
    // Pts strictly on the 1/fps grid, in order.
    for (let k = 1; k < units.length; k++) expect(Math.round(units[k]!.ptsS * FPS)).toBeGreaterThan(Math.round(units[k - 1]!.ptsS * FPS));
  }, 30_000);
});
