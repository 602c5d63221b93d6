import { beforeAll, describe, expect, it } from 'vitest';
import { FrameSocket, type FrameSink } from '../../../src/io/ffmpeg/frameSocket.js';
import { resolveFfmpeg } from '../../../src/io/ffmpeg/binary.js';
import { ManagedProcess } from '../../../src/io/ffmpeg/process.js';
import { runFfmpeg } from '../../helpers/media.js';

const W = 176;
const H = 144;
const FRAME = (W * H * 3) / 2;
/** 40 frames, 1.5 MB: many times what the socket's kernel buffers hold, so ffmpeg waits for us to read. */
const FRAMES = 40;
const rawArgs = (size: string, frames: number) => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25`, '-frames:v', String(frames), '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1'];

/** Deterministic pseudo-random read sizes (xorshift32), so a failure can be reproduced. */
function readSizes(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const r = (x >>> 0) % 100;
    // Mostly tiny or odd windows (chunk boundaries anywhere), sometimes whole frames and more.
    if (r < 30) return 1 + ((x >>> 8) % 7);
    if (r < 80) return 1 + ((x >>> 8) % 5000);
    return FRAME * 2;
  };
}

/** A sink that reads into given SharedArrayBuffer frames, windows of `nextSize()` bytes at most. */
function frameSink(frameSize: number, nextSize: () => number, onRead: (nread: number) => boolean = () => true) {
  const frames: Buffer[] = [];
  let current: Buffer | undefined;
  let filled = 0;
  let handedOut: Buffer | undefined;
  let reads = 0;
  let misplaced = 0;
  const sink: FrameSink = {
    buffer() {
      current ??= Buffer.from(new SharedArrayBuffer(frameSize));
      handedOut = current.subarray(filled, Math.min(frameSize, filled + nextSize()));
      return handedOut;
    },
    onRead(nread, buf) {
      reads++;
      if (buf !== handedOut || nread > buf.length) misplaced++;
      filled += nread;
      if (filled === frameSize) {
        frames.push(current!);
        current = undefined;
        filled = 0;
      }
      return onRead(nread);
    },
  };
  return {
    sink,
    frames,
    get reads() {
      return reads;
    },
    get misplaced() {
      return misplaced;
    },
    /** Bytes of a frame not yet complete. */
    get partial() {
      return filled;
    },
  };
}

function spawnInto(socket: FrameSocket, command: string, args: string[]): ManagedProcess<null> {
  const proc = new ManagedProcess<null>(command, args, { stdout: socket.forChild });
  socket.releaseChildEnd();
  return proc;
}

describe('FrameSocket (ffmpeg #1 writes frames straight into our buffers)', () => {
  let reference: Buffer;
  beforeAll(async () => {
    reference = await runFfmpeg(rawArgs(`${W}x${H}`, FRAMES));
    expect(reference.length).toBe(FRAMES * FRAME);
  });

  it.each([1, 2, 3])('frames read into given buffers are the bytes a plain pipe gives, wherever the reads end (seed %i)', async (seed) => {
    const into = frameSink(FRAME, readSizes(seed));
    const socket = await FrameSocket.open(into.sink);
    const proc = spawnInto(socket, resolveFfmpeg(), ['-v', 'error', ...rawArgs(`${W}x${H}`, FRAMES)]);
    expect(await socket.ended).toBeUndefined();
    expect((await proc.exited).code).toBe(0);
    expect(into.misplaced).toBe(0);
    expect(into.partial).toBe(0);
    expect(into.frames.length).toBe(FRAMES);
    expect(new Set(into.frames).size).toBe(FRAMES);
    expect(Buffer.concat(into.frames).equals(reference)).toBe(true);
  });

  it('onRead returning false pauses reading, EOF included, until resume()', async () => {
    // 10 frames of 16x16 (3840 bytes) fit in the socket's buffers: ffmpeg writes them all and exits.
    const tiny = 16 * 16 * 1.5;
    let first = true;
    const into = frameSink(tiny, () => 100, () => {
      const more = !first;
      first = false;
      return more;
    });
    const socket = await FrameSocket.open(into.sink);
    let ended = false;
    void socket.ended.then(() => (ended = true));
    const proc = spawnInto(socket, resolveFfmpeg(), ['-v', 'error', ...rawArgs('16x16', 10)]);
    expect((await proc.exited).code).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(into.reads).toBe(1);
    expect(ended).toBe(false);
    socket.resume();
    expect(await socket.ended).toBeUndefined();
    expect(into.frames.length).toBe(10);
    expect(Buffer.concat(into.frames).equals(await runFfmpeg(rawArgs('16x16', 10)))).toBe(true);
  });

  it('pause() before the child writes holds every byte and the EOF; resume() delivers them all', async () => {
    const tiny = 16 * 16 * 1.5;
    const into = frameSink(tiny, () => tiny);
    const socket = await FrameSocket.open(into.sink);
    socket.pause();
    let ended = false;
    void socket.ended.then(() => (ended = true));
    const proc = spawnInto(socket, resolveFfmpeg(), ['-v', 'error', ...rawArgs('16x16', 10)]);
    expect((await proc.exited).code).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(into.reads).toBe(0);
    expect(ended).toBe(false);
    socket.resume();
    expect(await socket.ended).toBeUndefined();
    expect(into.frames.length).toBe(10);
    expect(Buffer.concat(into.frames).equals(await runFfmpeg(rawArgs('16x16', 10)))).toBe(true);
  });

  it('a child that never starts (ENOENT) ends the socket at once, no hang', async () => {
    const into = frameSink(FRAME, () => FRAME);
    const socket = await FrameSocket.open(into.sink);
    const proc = spawnInto(socket, '/nonexistent/sie-no-such-ffmpeg', []);
    expect(await socket.ended).toBeUndefined();
    expect((await proc.exited).code).toBe(-1);
    expect(proc.recentStderr().join('\n')).toMatch(/ENOENT/);
    expect(into.reads).toBe(0);
  });

  it('destroy() ends it while the child still writes', async () => {
    const into = frameSink(FRAME, () => FRAME);
    const socket = await FrameSocket.open(into.sink);
    const proc = spawnInto(socket, resolveFfmpeg(), ['-v', 'error', '-re', ...rawArgs(`${W}x${H}`, 1000)]);
    socket.destroy();
    await socket.ended;
    // ffmpeg's next write fails (EPIPE): it ends by itself, long before its 40 s of frames.
    const exit = await proc.exited;
    expect(exit.code === 0 && exit.signal === null).toBe(false);
  });
});
