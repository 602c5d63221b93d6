import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Publisher, type PublisherCounters } from '../../../src/io/output/publisher.js';
import { defaultEncoderSettings } from '../../../src/io/ffmpeg/encoder.js';
import { yuv420pSize, type FrameRecord } from '../../../src/frame.js';
import { silentLogger } from '../../../src/log.js';

/** A stand-in for ffmpeg #2 that swallows whatever it is sent and never answers: a push to a server. */
let dir: string;
let savedFfmpeg: string | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sie-publisher-'));
  const fake = join(dir, 'ffmpeg');
  writeFileSync(fake, '#!/bin/sh\nexec cat > /dev/null\n');
  chmodSync(fake, 0o755);
  savedFfmpeg = process.env.FFMPEG_PATH;
  process.env.FFMPEG_PATH = fake;
});

afterAll(() => {
  if (savedFfmpeg === undefined) delete process.env.FFMPEG_PATH;
  else process.env.FFMPEG_PATH = savedFfmpeg;
  rmSync(dir, { recursive: true, force: true });
});

function frame(id: number): FrameRecord {
  return { runId: 'r', frameId: id, ptsS: id / 50, arrivedAtMs: Date.now(), width: 16, height: 16, pixels: Buffer.alloc(yuv420pSize({ width: 16, height: 16 })), times: {} };
}

describe('publisher', () => {
  it('pushing to an external server keeps no per-frame bookkeeping (no access units come back to match it)', async () => {
    const counters: PublisherCounters = { framesOut: 0, framesRepeated: 0, framesSlate: 0, accessUnitsOut: 0, droppedEncoderBusy: 0, firstOutputAtMs: undefined };
    let next = 0;
    const p = new Publisher({
      fps: 50,
      width: 16,
      height: 16,
      encoder: defaultEncoderSettings,
      mount: undefined,
      pushUrl: 'rtsp://127.0.0.1:1/out',
      nextFrame: () => frame(next++),
      counters,
      logger: silentLogger,
      onFatal: (err) => {
        throw err;
      },
    });
    try {
      while (counters.framesOut < 20) await new Promise((r) => setTimeout(r, 20));
      expect((p as unknown as { inFlight: number[] }).inFlight.length).toBe(0);
    } finally {
      await p.stop();
    }
  });
});
