import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutputClock } from '../../src/pipeline/outputClock.js';
import { yuv420pSize, type FrameRecord } from '../../src/frame.js';
import { fakeFfmpeg } from '../helpers/fakeFfmpeg.js';
import { newCounters, pushingOutputClock, type OutputCounters } from '../helpers/outputClock.js';
import { testFrame } from '../helpers/frames.js';
import { until } from '../helpers/processes.js';

/**
 * The output clock (src/pipeline/outputClock.ts) against a stand-in for ffmpeg #2 that records every byte it
 * is given: it waits for a "go" file (an encoder that is not taking input yet), then copies stdin to a file.
 * Each picture is filled with its frame id, so the recording says exactly which picture went out in which order.
 */
const fake = fakeFfmpeg('clock', {
  ffmpeg: ['while [ -n "$SIE_FAKE_GO" ] && [ ! -e "$SIE_FAKE_GO" ]; do sleep 0.02; done', 'exec cat > "$SIE_FAKE_OUT"'],
});
beforeAll(fake.install);
afterAll(fake.restore);

let dir = '';
let clock: OutputClock | undefined;
afterEach(async () => {
  await clock?.stop();
  clock = undefined;
  delete process.env.SIE_FAKE_GO;
  delete process.env.SIE_FAKE_OUT;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function frame(id: number, width: number, height: number): FrameRecord {
  return testFrame({ frameId: id, width, height, fill: id & 0xff });
}

/** The recorded pictures (complete ones only), each as the frame id it was filled with. */
function recorded(out: string, size: number): number[] {
  if (!existsSync(out)) return [];
  const buf = readFileSync(out);
  const ids: number[] = [];
  for (let off = 0; off + size <= buf.length; off += size) ids.push(buf[off]!);
  return ids;
}

function startClock(o: { fps: number; width: number; height: number; nextFrame(): FrameRecord | undefined; counters: OutputCounters; go?: boolean }) {
  dir = mkdtempSync(join(tmpdir(), 'sie-clock-'));
  const out = join(dir, 'out.yuv');
  const go = join(dir, 'go');
  process.env.SIE_FAKE_OUT = out;
  if (o.go === false) process.env.SIE_FAKE_GO = go;
  clock = pushingOutputClock(o);
  return { out, release: () => writeFileSync(go, '') };
}

describe('output clock', () => {
  it('repeats the last picture at every tick without a new frame (input slower than the output rate), counted', async () => {
    const W = 16;
    const H = 16;
    const size = yuv420pSize({ width: W, height: H });
    const counters = newCounters();
    let calls = 0;
    let given = 0;
    // A new frame at every third tick only: the source runs at a third of the output rate.
    const { out } = startClock({
      fps: 50,
      width: W,
      height: H,
      counters,
      nextFrame: () => (calls++ % 3 === 0 ? frame(given++, W, H) : undefined),
    });
    // 30 pictures of 384 bytes never fill the pipe, so the encoder is never busy here.
    await until(() => recorded(out, size).length >= 30, 30_000, '30 pictures recorded');
    await clock!.stop();
    const ids = recorded(out, size).slice(0, 30);
    // One picture per tick: tick i shows the newest frame given so far, i.e. frame ⌊i/3⌋, twice repeated.
    expect(ids).toEqual([...Array(30).keys()].map((i) => Math.floor(i / 3)));
    expect(counters.framesOut).toBe(calls);
    expect(counters.framesRepeated).toBe(calls - given);
    expect(counters.framesSlate).toBe(0);
    expect(counters.droppedEncoderBusy).toBe(0);
  });

  it('an encoder busy with the previous picture: the next one is held and sent as soon as it is taken, before the next tick', async () => {
    // 1280x720 pictures (1.4 MB) do not fit the pipe's buffer (a socketpair: a few hundred KB): while the
    // stand-in takes nothing, the first picture stays half-written and the encoder is busy. One tick every
    // 5 s leaves room between ticks, and the order is judged, not a count at some moment: at the third
    // tick (if it comes before we stop), both pictures must already be out.
    const W = 1280;
    const H = 720;
    const size = yuv420pSize({ width: W, height: H });
    const counters = newCounters();
    let calls = 0;
    let outPath = '';
    let recordedAtThirdTick: number | undefined;
    const { out, release } = startClock({
      fps: 0.2,
      width: W,
      height: H,
      counters,
      go: false,
      nextFrame: () => {
        if (calls === 2) recordedAtThirdTick = recorded(outPath, size).length;
        return frame(calls++, W, H);
      },
    });
    outPath = out;
    await until(() => calls >= 2, 60_000, 'the second tick');
    // The second picture could not be written: it is held, not dropped.
    expect(counters.framesOut).toBe(1);
    expect(counters.droppedEncoderBusy).toBe(0);
    release();
    await until(() => recorded(out, size).length >= 2, 30_000, 'two pictures recorded');
    // It went the moment the encoder took the first one, not at the next tick.
    if (calls > 2) expect(recordedAtThirdTick, 'pictures out when the third tick came').toBe(2);
    expect(recorded(out, size).slice(0, 2)).toEqual([0, 1]);
    // Two, or three if a third tick came meanwhile; never one dropped.
    expect(counters.framesOut).toBeGreaterThanOrEqual(2);
    expect(counters.framesOut).toBeLessThanOrEqual(calls);
    expect(counters.droppedEncoderBusy).toBe(0);
  });

  it('an encoder busy for several ticks: one picture waits, newer ones replace it (counted), none queue, order kept', async () => {
    const W = 1280;
    const H = 720;
    const size = yuv420pSize({ width: W, height: H });
    const counters = newCounters();
    let calls = 0;
    const { out, release } = startClock({ fps: 10, width: W, height: H, counters, go: false, nextFrame: () => frame(calls++, W, H) });
    await until(() => calls >= 6, 30_000, 'six ticks');
    // Frame 0 is half-written; 1..5 each replaced the one waiting before it.
    expect(counters.framesOut).toBe(1);
    expect(counters.droppedEncoderBusy).toBeGreaterThanOrEqual(4);
    release();
    await until(() => recorded(out, size).length >= 10, 30_000, 'ten pictures recorded');
    await clock!.stop();
    const ids = recorded(out, size);
    expect(ids[0]).toBe(0);
    // The held picture was the newest when the encoder took frame 0: never an older one.
    expect(ids[1]).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]!);
    // Every picture handed to the clock was written or counted as dropped (at most one still held at stop).
    expect(calls - counters.framesOut - counters.droppedEncoderBusy).toBeGreaterThanOrEqual(0);
    expect(calls - counters.framesOut - counters.droppedEncoderBusy).toBeLessThanOrEqual(1);
    expect(counters.framesOut).toBeGreaterThanOrEqual(ids.length);
    expect(statSync(out).size).toBeLessThanOrEqual(counters.framesOut * size);
  });
});
