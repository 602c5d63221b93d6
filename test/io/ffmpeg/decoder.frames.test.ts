import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FfmpegDecoder } from '../../../src/io/ffmpeg/decoder.js';
import type { DecodedStreamInfo } from '../../../src/frame.js';
import type { SieError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log.js';
import { runFfmpeg } from '../../helpers/media.js';

const W = 320;
const H = 240;
const FRAMES = 60;

/** Real ffmpeg #1 on a real file: the frames land in the buffers we hand out, byte for byte what ffmpeg decodes. */
describe('ffmpeg decoder frames (real ffmpeg)', () => {
  let dir: string;
  let clip: string;
  let reference: Buffer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sie-decoder-frames-'));
    clip = join(dir, 'clip.mp4');
    await runFfmpeg(['-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=25`, '-frames:v', String(FRAMES), '-c:v', 'libx264', '-bf', '0', '-pix_fmt', 'yuv420p', clip]);
    reference = await runFfmpeg(['-i', clip, '-map', '0:v:0', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1']);
    expect(reference.length).toBe((FRAMES * W * H * 3) / 2);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['never paused', 0],
    ['paused at every 7th frame, resumed a tick later', 7],
  ])('%s: every frame in order, in a buffer from allocateFrame, with its pts', async (_what, pauseEvery) => {
    const given = new Set<Buffer>();
    const frames: { pixels: Buffer; index: number; ptsS: number }[] = [];
    const infos: DecodedStreamInfo[] = [];
    let resolveExit!: (e: SieError | undefined) => void;
    const exit = new Promise<SieError | undefined>((r) => (resolveExit = r));
    const decoder: FfmpegDecoder = new FfmpegDecoder(
      {
        source: { url: clip, transport: 'tcp', realtime: false },
        ioTimeoutS: 5,
        logger: silentLogger,
        allocateFrame: (size) => {
          const b = Buffer.from(new SharedArrayBuffer(size));
          given.add(b);
          return b;
        },
      },
      {
        onInfo: (info) => infos.push(info),
        onFrame: (pixels, index, ptsS) => {
          frames.push({ pixels, index, ptsS });
          if (pauseEvery > 0 && frames.length % pauseEvery === 0) {
            decoder.pause();
            setTimeout(() => decoder.resume(), 1);
          }
        },
        onExit: (e) => resolveExit(e),
      },
    );
    try {
      expect(await exit).toBeUndefined();
      expect(infos).toEqual([{ codec: 'h264', width: W, height: H, fps: 25 }]);
      expect(frames.map((f) => f.index)).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
      expect(frames.map((f) => f.ptsS)).toEqual(Array.from({ length: FRAMES }, (_, i) => Number((i / 25).toFixed(2))));
      expect(frames.every((f) => given.has(f.pixels))).toBe(true);
      expect(new Set(frames.map((f) => f.pixels)).size).toBe(FRAMES);
      expect(Buffer.concat(frames.map((f) => f.pixels)).equals(reference)).toBe(true);
      expect(decoder.framesDecoded).toBe(FRAMES);
    } finally {
      await decoder.stop();
    }
  });

  it('stop() right after construction spawns nothing, reports nothing and resolves', async () => {
    const events: string[] = [];
    const decoder = new FfmpegDecoder(
      { source: { url: clip, transport: 'tcp', realtime: false }, ioTimeoutS: 5, logger: silentLogger },
      { onInfo: () => events.push('info'), onFrame: () => events.push('frame'), onExit: () => events.push('exit') },
    );
    await decoder.stop();
    expect(decoder.pid).toBeUndefined();
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual([]);
  });
});
