import { describe, expect, it } from 'vitest';
import { OutputClock, type OutputEncoder, type OutputEncoderHooks } from '../../src/pipeline/outputClock.js';
import { silentLogger } from '../../src/log.js';
import { testFrame } from '../helpers/frames.js';
import type { FrameRecord } from '../../src/frame.js';

/** An encoder double whose pipe the test drains by hand: writes complete only when `flush()` says so. */
function manualEncoder() {
  const pendingWrites: (() => void)[] = [];
  const written: Buffer[] = [];
  const encoder: OutputEncoder = {
    pid: 1,
    tryWrite(picture, onWritten) {
      if (pendingWrites.length > 0) return false;
      written.push(picture);
      pendingWrites.push(() => onWritten?.());
      return true;
    },
    onceWritable: (cb) => void setTimeout(cb, 1),
    stop: async () => undefined,
  };
  return { encoder, written, flush: () => pendingWrites.splice(0).forEach((f) => f()), inPipe: () => pendingWrites.length };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('output clock: giving frames back to the pool', () => {
  it('gives a frame back only once it is no longer the last picture and its writes have left the pipe', async () => {
    const enc = manualEncoder();
    const next: FrameRecord[] = [0, 1, 2].map((id) => testFrame({ frameId: id, width: 16, height: 16, fill: id }));
    const released: number[] = [];
    const given: FrameRecord[] = [];
    let serve = true;
    const clock = new OutputClock({
      fps: 100,
      width: 16,
      height: 16,
      startEncoder: (_hooks: OutputEncoderHooks) => enc.encoder,
      sink: undefined,
      nextFrame: () => {
        if (!serve) return undefined;
        const f = next.shift();
        if (f) given.push(f);
        return f;
      },
      count: () => undefined,
      releasePicture: (pixels) => released.push(given.findIndex((f) => f.pixels === pixels)),
      logger: silentLogger,
      onFatal: (err) => {
        throw err;
      },
    });
    try {
      // Frame 0 is written and stays in the pipe; frame 1 arrives and waits for the encoder.
      while (given.length < 2) await sleep(2);
      serve = false;
      expect(released, 'frame 0 is still in the pipe').toEqual([]);
      enc.flush();
      await sleep(20);
      // Frame 0 has left the pipe and is no longer the last picture: back to the pool. Frame 1 is the last.
      expect(released).toEqual([0]);
      enc.flush();
      await sleep(20);
      expect(released, 'the last picture is kept for repeats').toEqual([0]);
      serve = true;
      while (given.length < 3) await sleep(2);
      serve = false;
      await sleep(20);
      enc.flush();
      await sleep(20);
      enc.flush();
      expect(released).toEqual([0, 1]);
    } finally {
      await clock.stop();
    }
  });
});
