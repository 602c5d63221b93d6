import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FfmpegDecoder } from '../../../src/io/ffmpeg/decoder.js';
import type { ManagedProcess } from '../../../src/io/ffmpeg/process.js';
import type { SieError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log.js';
import { fakeFfmpeg } from '../../helpers/fakeFfmpeg.js';

/** The stream-info lines ffmpeg prints before the first frame (a 16x16 clip at 25 fps). */
const STREAM_INFO = [
  "printf 'Input #0, mov,mp4,m4a,3gp,3g2,mj2, from clip.mp4:\\n' >&2",
  "printf '  Stream #0:0(und): Video: h264 (High), yuv420p, 16x16, 25 fps, 25 tbr\\n' >&2",
  "printf 'Output #0, rawvideo, to pipe:1:\\n' >&2",
  "printf '  Stream #0:0(und): Video: rawvideo (I420 / 0x30323449), yuv420p, 16x16, q=2-31, 25 fps\\n' >&2",
];
/**
 * Stand-ins for ffmpeg #1. `ffmpeg` states the stream, prints 300 frames' pts, writes the 300 frames (more
 * than a pipe and a stream buffer hold) on stdout and exits at once, before we read them all.
 */
const fake = fakeFfmpeg('decoder', {
  ffmpeg: [
    ...STREAM_INFO,
    "i=0; while [ $i -lt 300 ]; do printf '[Parsed_metadata_1 @ 0x1] frame:%d    pts:%d    pts_time:%d.%02d\\n' $i $i $((i / 25)) $((i % 25 * 4)) >&2; i=$((i + 1)); done",
    'head -c 115200 /dev/zero',
    'exit 0',
  ],
  // Frames first, their pts lines only later (the two pipes race): the late lines must not be kept.
  'ffmpeg-late': [
    ...STREAM_INFO,
    'head -c 3840 /dev/zero',
    'sleep 0.3',
    "i=0; while [ $i -lt 10 ]; do printf '[Parsed_metadata_1 @ 0x1] frame:%d    pts:%d    pts_time:0.%02d\\n' $i $i $((i * 4)) >&2; i=$((i + 1)); done",
    'sleep 0.3',
    'exit 0',
  ],
  // Frames before the stream info (more than the decoder's 64 KB scratch buffer), then more frames after it.
  'ffmpeg-early': [
    'd=$(dirname "$0")',
    'head -c 115200 /dev/urandom > "$d/early.bin"; cat "$d/early.bin"',
    'sleep 0.3',
    ...STREAM_INFO,
    "i=0; while [ $i -lt 600 ]; do printf '[Parsed_metadata_1 @ 0x1] frame:%d    pts:%d    pts_time:%d.%02d\\n' $i $i $((i / 25)) $((i % 25 * 4)) >&2; i=$((i + 1)); done",
    'head -c 115200 /dev/urandom > "$d/late.bin"; cat "$d/late.bin"',
    'exit 0',
  ],
});
beforeAll(fake.install);
afterAll(fake.restore);

describe('ffmpeg decoder', () => {
  it('a file that ends delivers every frame ffmpeg wrote, even when ffmpeg exits before we read them', async () => {
    const frames: number[] = [];
    let resolveExit!: (e: SieError | undefined) => void;
    const exit = new Promise<SieError | undefined>((r) => (resolveExit = r));
    const decoder = new FfmpegDecoder(
      { source: { url: join(fake.dir, 'clip.mp4'), transport: 'tcp', realtime: false }, ioTimeoutS: 5, logger: silentLogger },
      {
        onInfo: () => undefined,
        onFrame: (_pixels, index) => frames.push(index),
        onExit: (e) => resolveExit(e),
      },
    );
    try {
      // Replay pauses the pipe when it falls behind: ffmpeg may well be gone before we read on.
      decoder.pause();
      const internals = decoder as unknown as { started: Promise<void>; proc: ManagedProcess<null> };
      await internals.started;
      await internals.proc.exited;
      decoder.resume();
      expect(await exit).toBeUndefined();
      expect(frames).toEqual(Array.from({ length: 300 }, (_, i) => i));
    } finally {
      await decoder.stop();
    }
  });

  it('pts lines that come after their frames were sent with an estimate are not kept', async () => {
    process.env.FFMPEG_PATH = fake.paths['ffmpeg-late'];
    let resolveExit!: (e: SieError | undefined) => void;
    const exit = new Promise<SieError | undefined>((r) => (resolveExit = r));
    const frames: number[] = [];
    const decoder = new FfmpegDecoder(
      { source: { url: join(fake.dir, 'clip.mp4'), transport: 'tcp', realtime: false }, ioTimeoutS: 5, logger: silentLogger },
      { onInfo: () => undefined, onFrame: (_p, index) => frames.push(index), onExit: (e) => resolveExit(e) },
    );
    try {
      expect(await exit).toBeUndefined();
      expect(frames).toEqual(Array.from({ length: 10 }, (_, i) => i));
      expect((decoder as unknown as { ptsByIndex: Map<number, number> }).ptsByIndex.size).toBe(0);
    } finally {
      process.env.FFMPEG_PATH = fake.paths.ffmpeg;
      await decoder.stop();
    }
  });

  it('bytes that come before the stream info are kept and become the first frames', async () => {
    process.env.FFMPEG_PATH = fake.paths['ffmpeg-early'];
    let resolveExit!: (e: SieError | undefined) => void;
    const exit = new Promise<SieError | undefined>((r) => (resolveExit = r));
    const frames: Buffer[] = [];
    const decoder = new FfmpegDecoder(
      { source: { url: join(fake.dir, 'clip.mp4'), transport: 'tcp', realtime: false }, ioTimeoutS: 5, logger: silentLogger },
      { onInfo: () => undefined, onFrame: (pixels) => frames.push(pixels), onExit: (e) => resolveExit(e) },
    );
    try {
      expect(await exit).toBeUndefined();
      expect(frames.length).toBe(600);
      const written = Buffer.concat([readFileSync(join(fake.dir, 'early.bin')), readFileSync(join(fake.dir, 'late.bin'))]);
      expect(Buffer.concat(frames).equals(written)).toBe(true);
    } finally {
      process.env.FFMPEG_PATH = fake.paths.ffmpeg;
      await decoder.stop();
    }
  });
});
