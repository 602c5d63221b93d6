import { afterEach, describe, expect, it, vi } from 'vitest';
import { OutputClock, type AccessUnitSink, type OutputEncoder } from '../../src/pipeline/outputClock.js';
import type { FrameRecord } from '../../src/frame.js';
import { silentLogger } from '../../src/log.js';
import { testFrame } from '../helpers/frames.js';
import { newCounters } from '../helpers/outputClock.js';
import { until } from '../helpers/processes.js';

/**
 * When the output clock sends a new frame: at once when told it is ready (frameReady), never waiting for
 * a tick, but at most one picture per half period; pts on the 1/fps grid. Against an encoder double that
 * takes every picture at once (its first byte is the frame id) and gives an access unit back.
 */

const W = 16;
const H = 16;

let clock: OutputClock | undefined;
afterEach(async () => {
  await clock?.stop();
  clock = undefined;
});

function start(fps: number, framesOnTheWay?: () => number) {
  const queue: FrameRecord[] = [];
  const taken: number[] = [];
  const pts: number[] = [];
  const counters = newCounters();
  const encoder: OutputEncoder = {
    pid: 1,
    tryWrite(picture, onWritten) {
      taken.push(picture[0]!);
      setImmediate(() => {
        onWritten?.();
        hooks?.onAccessUnit([Buffer.from([picture[0]!])]);
      });
      return true;
    },
    onceWritable: (cb) => void setImmediate(cb),
    stop: async () => undefined,
  };
  let hooks: Parameters<ConstructorParameters<typeof OutputClock>[0]['startEncoder']>[0] | undefined;
  const sink: AccessUnitSink = { writeAccessUnit: (_nalus, ptsS) => void pts.push(ptsS) };
  const ready = (id: number) => {
    queue.push(testFrame({ frameId: id, width: W, height: H, fill: id }));
    clock!.frameReady();
  };
  queue.push(testFrame({ frameId: 0, width: W, height: H, fill: 0 }));
  clock = new OutputClock({
    fps,
    width: W,
    height: H,
    startEncoder: (h) => ((hooks = h), encoder),
    sink,
    nextFrame: () => queue.shift(),
    count: (what) => counters[what]++,
    framesOnTheWay,
    logger: silentLogger,
    onFatal: (err) => {
      throw err;
    },
  });
  return { taken, pts, counters, ready };
}

describe('output clock pacing', () => {
  it('a frame ready half a period or more after the last picture goes to the encoder at once', async () => {
    // 1 fps: the clock's own repeat would come 1.5 s after the first picture.
    const c = start(1);
    await until(() => c.taken.length === 1, 10_000, 'the first picture');
    await new Promise((r) => setTimeout(r, 600));
    c.ready(1);
    // Taken inside frameReady(), before anything else ran: no tick was waited for.
    expect(c.taken).toEqual([0, 1]);
    expect(c.counters.framesRepeated).toBe(0);
    await until(() => c.pts.length === 2, 10_000, 'two access units');
    expect(c.pts[0]).toBe(0);
    expect(c.pts[1]).toBe(1);
  });

  it('a frame ready sooner waits until half a period has passed, and no repeat goes out meanwhile', async () => {
    // 4 fps: half a period is 125 ms, a repeat would come 375 ms after the first picture.
    const c = start(4);
    await until(() => c.taken.length === 1, 10_000, 'the first picture');
    c.ready(1);
    c.ready(2); // a second one meanwhile: one timer, both go, in order
    expect(c.taken).toEqual([0]);
    await until(() => c.taken.length === 3, 10_000, 'frames 1 and 2');
    expect(c.taken).toEqual([0, 1, 2]);
    expect(c.counters.framesRepeated).toBe(0);
    await until(() => c.pts.length === 3, 10_000, 'three access units');
    // On the grid of 1/4 s, always increasing: two pictures within one slot get consecutive slots.
    for (const [i, p] of c.pts.entries()) {
      expect(Number.isInteger(p * 4)).toBe(true);
      if (i > 0) expect(p).toBeGreaterThan(c.pts[i - 1]!);
    }
  });

  it('without new frames the last picture is repeated, counted, and a frame after that goes out again', async () => {
    const c = start(20);
    await until(() => c.counters.framesRepeated >= 3, 10_000, 'three repeats');
    expect(new Set(c.taken)).toEqual(new Set([0]));
    c.ready(1);
    await until(() => c.taken.includes(1), 10_000, 'frame 1 after the repeats');
    expect(c.counters.framesOut).toBe(c.taken.length);
    expect(c.counters.framesRepeated).toBe(c.taken.length - 2);
  });

  it('frames that queued up while one waited go out half a period apart, with no frameReady() of their own', async () => {
    // Fake time: the half-period steps are exact, so "before the clock's repeat" is decided, not raced.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    try {
      const c = start(4); // period 250 ms: half a period 125 ms, a repeat 375 ms after a new picture
      await vi.advanceTimersByTimeAsync(0);
      expect(c.taken).toEqual([0]);
      c.ready(1);
      c.ready(2);
      c.ready(3);
      await vi.advanceTimersByTimeAsync(125);
      expect(c.taken).toEqual([0, 1]);
      await vi.advanceTimersByTimeAsync(125);
      expect(c.taken).toEqual([0, 1, 2]);
      await vi.advanceTimersByTimeAsync(125);
      expect(c.taken).toEqual([0, 1, 2, 3]);
      expect(c.counters.framesRepeated).toBe(0);
      // Nothing left: the next picture is the clock's repeat, 375 ms after the last new one.
      await vi.advanceTimersByTimeAsync(374);
      expect(c.taken).toHaveLength(4);
      await vi.advanceTimersByTimeAsync(2);
      expect(c.taken).toEqual([0, 1, 2, 3, 3]);
      expect(c.counters.framesRepeated).toBe(1);
    } finally {
      await clock?.stop();
      clock = undefined;
      vi.useRealTimers();
    }
  });

  it('with a frame still in the stages the last picture is held up to 3 periods, not repeated; with none, repeated at 1.5', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    try {
      let onTheWay = 1;
      const c = start(4, () => onTheWay); // period 250 ms
      await vi.advanceTimersByTimeAsync(0);
      expect(c.taken).toEqual([0]);
      // A detection frame, late by more than half a period: no repeat before it, it goes out when drawn.
      await vi.advanceTimersByTimeAsync(600);
      expect(c.taken).toEqual([0]);
      onTheWay = 0;
      c.ready(1);
      expect(c.taken).toEqual([0, 1]);
      expect(c.counters.framesRepeated).toBe(0);
      // A frame that never comes out of the stages (a stuck stage): the repeat goes out after 3 periods.
      onTheWay = 1;
      await vi.advanceTimersByTimeAsync(749);
      expect(c.taken).toEqual([0, 1]);
      await vi.advanceTimersByTimeAsync(2);
      expect(c.taken).toEqual([0, 1, 1]);
      expect(c.counters.framesRepeated).toBe(1);
      // After a repeat, repeats every period whatever is on the way (the hold is once per new picture).
      await vi.advanceTimersByTimeAsync(250);
      expect(c.taken).toEqual([0, 1, 1, 1]);
      // Nothing on the way: the usual 1.5 periods after a new picture.
      onTheWay = 0;
      c.ready(2); // half a period after the last repeat
      await vi.advanceTimersByTimeAsync(125);
      expect(c.taken).toEqual([0, 1, 1, 1, 2]);
      await vi.advanceTimersByTimeAsync(373);
      expect(c.taken).toEqual([0, 1, 1, 1, 2]);
      await vi.advanceTimersByTimeAsync(2);
      expect(c.taken).toEqual([0, 1, 1, 1, 2, 2]);
    } finally {
      await clock?.stop();
      clock = undefined;
      vi.useRealTimers();
    }
  });
});
