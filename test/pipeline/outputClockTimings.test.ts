import { afterEach, describe, expect, it } from 'vitest';
import { OutputClock, type AccessUnitSink, type OutputEncoder, type OutputEncoderHooks } from '../../src/pipeline/outputClock.js';
import type { FrameOutput, FrameOutputTiming } from '../../src/pipeline/frameTimings.js';
import type { FrameRecord, StageName } from '../../src/frame.js';
import { preciseNowMs } from '../../src/clock.js';
import { InternalError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { testFrame } from '../helpers/frames.js';
import { newCounters, type OutputCounters } from '../helpers/outputClock.js';
import { sleep, until } from '../helpers/processes.js';

/**
 * The output clock's frame timings (onFrameSent) against an encoder double: each picture it takes comes
 * back as one access unit holding the picture's first byte (every test frame is filled with its id), so
 * the sink's last access unit, read when a timing arrives, says which picture the timing was paired with.
 */

const W = 16;
const H = 16;

interface FakeEncoder {
  encoder: OutputEncoder;
  hooks: OutputEncoderHooks;
  /** Pictures taken, by first byte. */
  taken: number[];
}

/** `busy`: refuses writes until the test calls `writable()`. `silent`: takes pictures, gives nothing back. */
function encoderDouble(o: { busy?: () => boolean; silent?: boolean; onWaiting?: (cb: () => void) => void }, hooks: OutputEncoderHooks): FakeEncoder {
  const taken: number[] = [];
  const encoder: OutputEncoder = {
    pid: 1,
    tryWrite(picture, onWritten) {
      if (o.busy?.()) return false;
      taken.push(picture[0]!);
      setImmediate(() => {
        onWritten?.();
        if (!o.silent) hooks.onAccessUnit([Buffer.from([picture[0]!])]);
      });
      return true;
    },
    onceWritable: (cb) => (o.onWaiting ? o.onWaiting(cb) : void setTimeout(cb, 1)),
    stop: async () => undefined,
  };
  return { encoder, hooks, taken };
}

/** A drawn frame: arrived a little ago, with the three stages one after the other since. */
function drawnFrame(id: number): FrameRecord {
  const arrivedAtMs = preciseNowMs() - 3;
  const stages = (['inference', 'rules', 'drawing'] as StageName[]).map((stage, i) => ({ stage, waitMs: 0, serviceMs: 1, startedAtMs: arrivedAtMs + i }));
  return { ...testFrame({ frameId: id, width: W, height: H, fill: id }), arrivedAtMs, stages };
}

interface Sent {
  timing: FrameOutputTiming;
  /** The first byte of the access unit the sink had just been given. */
  unit: number;
}

let clock: OutputClock | undefined;
afterEach(async () => {
  await clock?.stop();
  clock = undefined;
});

function startClock(o: { nextFrame(): FrameRecord | undefined; encoder(hooks: OutputEncoderHooks): OutputEncoder; counters: OutputCounters }) {
  const units: number[] = [];
  const sent: Sent[] = [];
  const sink: AccessUnitSink = { writeAccessUnit: (nalus) => void units.push(nalus[0]![0]!) };
  clock = new OutputClock({
    fps: 100,
    width: W,
    height: H,
    startEncoder: (hooks) => o.encoder(hooks),
    sink,
    nextFrame: () => o.nextFrame(),
    count: (what) => o.counters[what]++,
    onFrameSent: (timing) => sent.push({ timing, unit: units.at(-1)! }),
    logger: silentLogger,
    onFatal: (err) => {
      throw err;
    },
  });
  return { units, sent };
}

function expectOrdered(t: FrameOutputTiming): void {
  expect(t.stages.map((s) => s.stage)).toEqual(['inference', 'rules', 'drawing']);
  for (const s of t.stages) expect(s.startedAtMs).toBeGreaterThanOrEqual(t.arrivedAtMs);
  expect(t.handedAtMs).toBeGreaterThanOrEqual(Math.max(...t.stages.map((s) => s.startedAtMs + s.serviceMs)));
  expect(t.sentAtMs).toBeGreaterThanOrEqual(t.handedAtMs);
}

describe('output clock: frame timings', () => {
  it('gives one timing per new frame, paired with its own access unit, and none for repeats', async () => {
    const counters = newCounters();
    let calls = 0;
    let given = 0;
    const { units, sent } = startClock({
      counters,
      encoder: (hooks) => encoderDouble({}, hooks).encoder,
      // A new frame at every third tick, none after frame 5: the rest are repeats.
      nextFrame: () => (calls++ % 3 === 0 && given < 6 ? drawnFrame(given++) : undefined),
    });
    await until(() => given === 6 && units.length >= 24, 10_000, 'six frames and their repeats out');
    await clock!.stop();
    await sleep(5);
    expect(counters.framesRepeated).toBeGreaterThan(0);
    expect(sent.map((s) => s.timing.frameId)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const s of sent) {
      expect(s.unit, `frame ${s.timing.frameId}'s timing`).toBe(s.timing.frameId);
      expect(s.timing.runId).toBe('r');
      expectOrdered(s.timing);
    }
  });

  it('keeps the pairing after an encoder restart: what the dead one had taken gives no timing', async () => {
    const counters = newCounters();
    const encoders: FakeEncoder[] = [];
    let given = 0;
    let serve = true;
    const { sent } = startClock({
      counters,
      // The first encoder takes pictures and never gives an access unit back; then it dies.
      encoder: (hooks) => {
        const e = encoderDouble({ silent: encoders.length === 0 }, hooks);
        encoders.push(e);
        return e.encoder;
      },
      nextFrame: () => (serve ? drawnFrame(given++) : undefined),
    });
    await until(() => given >= 3, 10_000, 'three frames to the first encoder');
    serve = false;
    const lostUpTo = given;
    encoders[0]!.hooks.onExit(new InternalError('encoder killed'));
    expect(encoders).toHaveLength(2);
    serve = true;
    await until(() => sent.length >= 3, 10_000, 'three timings from the second encoder');
    await clock!.stop();
    for (const s of sent) {
      expect(s.timing.frameId, 'a frame the dead encoder took').toBeGreaterThanOrEqual(lostUpTo);
      expect(s.unit, `frame ${s.timing.frameId}'s timing`).toBe(s.timing.frameId);
      expectOrdered(s.timing);
    }
    const ids = sent.map((s) => s.timing.frameId);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a frame that waited for a busy encoder is timed from when it was taken; one replaced while waiting gives nothing', async () => {
    const counters = newCounters();
    let busy = false;
    let writable: (() => void) | undefined;
    const queue: FrameRecord[] = [drawnFrame(0)];
    const { units, sent } = startClock({
      counters,
      encoder: (hooks) => encoderDouble({ busy: () => busy, onWaiting: (cb) => (writable = cb) }, hooks).encoder,
      nextFrame: () => queue.shift(),
    });
    await until(() => sent.length === 1, 10_000, 'frame 0 out');
    busy = true;
    // Frame 1 waits, frame 2 replaces it, then repeats of frame 2 wait in its place.
    queue.push(drawnFrame(1), drawnFrame(2));
    await until(() => queue.length === 0 && counters.droppedEncoderBusy >= 3, 10_000, 'frames 1 and 2 waiting, then repeats');
    const freedAtMs = preciseNowMs();
    busy = false;
    writable!();
    await until(() => units.includes(2), 10_000, 'frame 2 out');
    await sleep(30);
    await clock!.stop();
    expect(sent.map((s) => s.timing.frameId)).toEqual([0, 2]);
    const late = sent[1]!;
    expect(late.unit).toBe(2);
    expect(late.timing.handedAtMs).toBeGreaterThanOrEqual(freedAtMs);
    expectOrdered(late.timing);
  });

  it('gives none without a sink (a push output gives no access units to pair them with)', async () => {
    const sent: FrameOutputTiming[] = [];
    let given = 0;
    let units = 0;
    clock = new OutputClock({
      fps: 100,
      width: W,
      height: H,
      startEncoder: (hooks) =>
        encoderDouble({}, {
          ...hooks,
          onAccessUnit: (nalus) => {
            units++;
            hooks.onAccessUnit(nalus);
          },
        }).encoder,
      sink: undefined,
      nextFrame: () => (given < 3 ? drawnFrame(given++) : undefined),
      count: () => undefined,
      onFrameSent: (t) => sent.push(t),
      logger: silentLogger,
      onFatal: (err) => {
        throw err;
      },
    });
    await until(() => units >= 5, 10_000, 'five access units');
    await clock.stop();
    expect(sent).toEqual([]);
  });

  it('for tracing: a frame replaced while it waited for a busy encoder, or taken by one that died, is reported lost', async () => {
    const counters = newCounters();
    let busy = false;
    let writable: (() => void) | undefined;
    const encoders: FakeEncoder[] = [];
    const queue: FrameRecord[] = [drawnFrame(0)];
    const lost: number[] = [];
    const sent: number[] = [];
    clock = new OutputClock({
      fps: 100,
      width: W,
      height: H,
      startEncoder: (hooks) => {
        const e = encoderDouble({ busy: () => busy, onWaiting: (cb) => (writable = cb), }, hooks);
        encoders.push(e);
        return e.encoder;
      },
      sink: { writeAccessUnit: () => undefined },
      nextFrame: () => queue.shift(),
      count: (what) => counters[what]++,
      onFrameSent: (t) => sent.push(t.frameId),
      onFrameLost: (f) => lost.push(f.frameId),
      logger: silentLogger,
      onFatal: (err) => {
        throw err;
      },
    });
    await until(() => sent.length === 1, 10_000, 'frame 0 out');
    busy = true;
    queue.push(drawnFrame(1), drawnFrame(2));
    await until(() => queue.length === 0 && counters.droppedEncoderBusy >= 2, 10_000, 'frame 1 replaced by frame 2');
    busy = false;
    writable!();
    await until(() => sent.includes(2), 10_000, 'frame 2 out');
    expect(lost).toEqual([1]);
    // Frame 3 waits for a busy encoder that dies: lost too, and never reported sent.
    busy = true;
    queue.push(drawnFrame(3));
    await until(() => queue.length === 0, 10_000, 'frame 3 waiting');
    encoders.at(-1)!.hooks.onExit(new InternalError('encoder killed'));
    busy = false;
    await sleep(30);
    await clock.stop();
    expect(lost).toEqual([1, 3]);
    expect(sent).not.toContain(1);
    expect(sent).not.toContain(3);
  });

  it('for tracing: without a sink, each new frame is reported once at its hand-over to a pushing ffmpeg #2, with its output pts', async () => {
    const pushed: FrameOutput[] = [];
    let given = 0;
    clock = new OutputClock({
      fps: 100,
      width: W,
      height: H,
      startEncoder: (hooks) => encoderDouble({}, hooks).encoder,
      sink: undefined,
      nextFrame: () => (given < 3 ? drawnFrame(given++) : undefined),
      count: () => undefined,
      onFramePushed: (t) => pushed.push(t),
      logger: silentLogger,
      onFatal: (err) => {
        throw err;
      },
    });
    await until(() => pushed.length === 3, 10_000, 'three frames pushed');
    await sleep(50);
    await clock.stop();
    expect(pushed.map((t) => t.frameId)).toEqual([0, 1, 2]);
    for (const t of pushed) {
      expect(t.pushed).toBe(true);
      expect(t.sentAtMs).toBe(t.handedAtMs);
      expect(Math.abs(t.outputPtsS * 100 - Math.round(t.outputPtsS * 100))).toBeLessThan(1e-6);
      expectOrdered(t);
    }
  });
});
