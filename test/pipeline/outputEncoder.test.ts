import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FfmpegEncoder, defaultEncoderSettings } from '../../src/io/ffmpeg/encoder.js';
import type { FrameRecord } from '../../src/frame.js';
import { silentLogger } from '../../src/log.js';
import { fakeFfmpeg } from '../helpers/fakeFfmpeg.js';
import { newCounters, pushingOutputClock } from '../helpers/outputClock.js';
import { testFrame } from '../helpers/frames.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A stand-in for ffmpeg #2 that swallows whatever it is sent and never answers: a push to a server. */
const fake = fakeFfmpeg('publisher', { ffmpeg: ['exec cat > /dev/null'], dying: ['echo x >> "$SIE_TEST_SPAWNS"', 'exit 1'] });
beforeAll(fake.install);
afterAll(fake.restore);

function frame(id: number): FrameRecord {
  return testFrame({ frameId: id, ptsS: id / 50, width: 16, height: 16 });
}

/** An output clock whose encoder (the dying stand-in) dies at every start, once it has given up for good. */
async function publisherThatGivesUp(spawns: string) {
  process.env.SIE_TEST_SPAWNS = spawns;
  process.env.FFMPEG_PATH = fake.paths.dying;
  let next = 0;
  let fatal: Error | undefined;
  const p = pushingOutputClock({ fps: 50, width: 16, height: 16, nextFrame: () => frame(next++), counters: newCounters(), onFatal: (err) => (fatal = err) });
  const t0 = Date.now();
  while (!fatal && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 20));
  return {
    fatal,
    ticks: () => next,
    async stop() {
      await p.stop();
      process.env.FFMPEG_PATH = fake.paths.ffmpeg;
      delete process.env.SIE_TEST_SPAWNS;
    },
  };
}

describe('output clock and its encoder', () => {
  it('pushing to an external server keeps no per-frame bookkeeping (no access units come back to match it)', async () => {
    const counters = newCounters();
    let next = 0;
    const p = pushingOutputClock({ fps: 50, width: 16, height: 16, nextFrame: () => frame(next++), counters });
    try {
      while (counters.framesOut < 20) await new Promise((r) => setTimeout(r, 20));
      expect((p as unknown as { inFlight: number[] }).inFlight.length).toBe(0);
    } finally {
      await p.stop();
    }
  });

  it('an encoder that dies is replaced; one that keeps dying ends the run (5 restarts a minute at most)', async () => {
    const spawns = join(fake.dir, 'spawns');
    const run = await publisherThatGivesUp(spawns);
    try {
      expect(run.fatal?.message).toMatch(/encoder exited/);
      expect(readFileSync(spawns, 'utf8').trim().split('\n').length, 'first encoder + 5 replacements').toBe(6);
    } finally {
      await run.stop();
    }
  });

  it('a dead encoder never reports itself writable (that answer started a hot retry loop)', async () => {
    process.env.FFMPEG_PATH = fake.paths.dying;
    process.env.SIE_TEST_SPAWNS = join(fake.dir, 'spawns-encoder');
    try {
      let exited!: () => void;
      const died = new Promise<void>((r) => (exited = () => r()));
      const enc = new FfmpegEncoder({
        width: 16,
        height: 16,
        fps: 50,
        settings: defaultEncoderSettings,
        output: { kind: 'push', url: 'rtsp://127.0.0.1:1/out' },
        logger: silentLogger,
        onExit: () => exited(),
      });
      await died;
      let calls = 0;
      enc.onceWritable(() => calls++);
      await new Promise((r) => setTimeout(r, 200));
      expect(calls).toBe(0);
      expect(enc.tryWrite(frame(0).pixels)).toBe(false);
      await enc.stop();
    } finally {
      process.env.FFMPEG_PATH = fake.paths.ffmpeg;
      delete process.env.SIE_TEST_SPAWNS;
    }
  });

  it('after the encoder gave up for good, the clock still sends once a tick, not in a loop', async () => {
    const run = await publisherThatGivesUp(join(fake.dir, 'spawns-loop'));
    const tryWrite = vi.spyOn(FfmpegEncoder.prototype, 'tryWrite');
    try {
      expect(run.fatal?.message).toMatch(/encoder exited/);
      // The run is failing; until the supervisor stops the publisher, its clock ticks on. A tick is
      // 20 ms: in 500 ms that is some 25 attempts (fewer under load). The loop made tens of thousands.
      const ticksBefore = run.ticks();
      await new Promise((r) => setTimeout(r, 500));
      const attempts = tryWrite.mock.calls.length;
      expect(attempts, `${attempts} writes tried in 500 ms`).toBeLessThanOrEqual(run.ticks() - ticksBefore + 2);
    } finally {
      tryWrite.mockRestore();
      await run.stop();
    }
  });
});
