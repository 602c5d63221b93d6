import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { yuv420pSize, type FrameRecord } from '../../../src/frame.js';
import { fakeFfmpeg } from '../../helpers/fakeFfmpeg.js';
import { newCounters, pushingPublisher } from '../../helpers/publisher.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A stand-in for ffmpeg #2 that swallows whatever it is sent and never answers: a push to a server. */
const fake = fakeFfmpeg('publisher', { ffmpeg: ['exec cat > /dev/null'], dying: ['echo x >> "$SIE_TEST_SPAWNS"', 'exit 1'] });
beforeAll(fake.install);
afterAll(fake.restore);

function frame(id: number): FrameRecord {
  return { runId: 'r', frameId: id, ptsS: id / 50, arrivedAtMs: Date.now(), width: 16, height: 16, pixels: Buffer.alloc(yuv420pSize({ width: 16, height: 16 })), times: {} };
}

describe('publisher', () => {
  it('pushing to an external server keeps no per-frame bookkeeping (no access units come back to match it)', async () => {
    const counters = newCounters();
    let next = 0;
    const p = pushingPublisher({ fps: 50, width: 16, height: 16, nextFrame: () => frame(next++), counters });
    try {
      while (counters.framesOut < 20) await new Promise((r) => setTimeout(r, 20));
      expect((p as unknown as { inFlight: number[] }).inFlight.length).toBe(0);
    } finally {
      await p.stop();
    }
  });

  it('an encoder that dies is replaced; one that keeps dying ends the run (5 restarts a minute at most)', async () => {
    const counters = newCounters();
    const spawns = join(fake.dir, 'spawns');
    process.env.SIE_TEST_SPAWNS = spawns;
    process.env.FFMPEG_PATH = fake.paths.dying;
    let next = 0;
    let fatal: Error | undefined;
    const p = pushingPublisher({ fps: 50, width: 16, height: 16, nextFrame: () => frame(next++), counters, onFatal: (err) => (fatal = err) });
    try {
      const t0 = Date.now();
      while (!fatal && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 20));
      expect(fatal?.message).toMatch(/encoder exited/);
      expect(readFileSync(spawns, 'utf8').trim().split('\n').length, 'first encoder + 5 replacements').toBe(6);
    } finally {
      await p.stop();
      process.env.FFMPEG_PATH = fake.paths.ffmpeg;
      delete process.env.SIE_TEST_SPAWNS;
    }
  });
});
