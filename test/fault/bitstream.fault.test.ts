import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertModelAndConfig, waitForRun } from '../helpers/engineFixtures.js';
import { PLAZA, runFfmpeg } from '../helpers/media.js';
import { killAll, runToEnd, sleep } from '../helpers/processes.js';
import {
  LIGHT_CONFIG,
  MAX_PTS_GAP_S,
  distinctPictures,
  median,
  startEngineProcess,
  startWatchedRun,
  transitionsAt,
  type EngineProcess,
  type SeenFrame,
} from '../helpers/mediaFaults.js';

/**
 * Hostile bitstreams from a camera: `sie camera --copy` serves an H.264 elementary stream exactly as it
 * is (a re-encode would repair it), looping. The media are made here, in a temporary folder.
 */

let db: TestDatabase;
let configId: string;
let engine: EngineProcess;
let dir: string;

/** Plaza from `fromS` for `seconds`, as Annex-B H.264 of the given size (keyframe each second). */
async function h264(file: string, size: string, fromS: number, seconds: number): Promise<Buffer> {
  const out = join(dir, file);
  await runFfmpeg(['-y', '-ss', String(fromS), '-i', PLAZA, '-t', String(seconds), '-an', '-vf', `scale=${size.replace('x', ':')}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0', '-g', '10', '-x264-params', 'repeat-headers=1', '-f', 'h264', out]);
  return readFileSync(out);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sie-bitstream-'));
  db = await createTestDatabase();
  ({ configId } = await insertModelAndConfig(db.pool, 'acme', LIGHT_CONFIG));
  engine = await startEngineProcess(db.url, { stallTimeoutS: 3 });
});

afterAll(async () => {
  await killAll();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});


/**
 * Pictures keep coming (at least half the 10 fps over the window, no step over MAX_PTS_GAP_S) and keep
 * changing: every run of 10 consecutive pictures (a second of output) holds several different pictures
 * (real video, not a frozen one) and is live, not the slate. Judged by pictures rather than by seconds of
 * pts: a tick the engine skipped under load moves the pts on, it does not change what the pictures show.
 */
function expectLiveThroughout(frames: SeenFrame[], liveLuma: number): void {
  const span = frames.at(-1)!.pts - frames[0]!.pts;
  expect(frames.length, `pictures over ${span.toFixed(1)} s of stream`).toBeGreaterThanOrEqual(5 * span);
  for (let i = 0; i + 10 <= frames.length; i += 10) {
    const run = frames.slice(i, i + 10);
    const at = `pictures ${i}–${i + 9} (pts ${run[0]!.pts.toFixed(1)})`;
    expect(distinctPictures(run), `distinct ${at}`).toBeGreaterThanOrEqual(3);
    expect(median(run.map((f) => f.luma)), `brightness of ${at} (not the slate)`).toBeGreaterThan(liveLuma * 0.8);
  }
}

/**
 * A camera serving `file` as it is, a run on it, and 9 s of its output (passes and more through the file)
 * judged: engine and reader alive, pictures live throughout, and the run never left running (a damaged
 * picture is concealed by the decoder, not an outage). Returns the pictures of those 9 s.
 */
async function ridesThrough(file: string, mount: string): Promise<SeenFrame[]> {
  const { id, viewer, liveLuma } = await startWatchedRun(
    db.pool,
    configId,
    { output_mount: mount, retry_max_attempts: 20, retry_backoff_initial_s: 0.2, retry_backoff_max_s: 0.5, connect_timeout_s: 10 },
    { camera: { file, args: ['--copy'] }, frames: 10 },
  );
  const startAt = Date.now();
  await sleep(9_000);
  expect(engine.proc.child.exitCode, 'engine alive').toBeNull();
  expect(viewer.alive, 'reader still connected').toBe(true);
  const frames = viewer.frames.filter((f) => f.wallMs >= startAt);
  expect(viewer.largestPtsGap(startAt), 'largest pts step (s)').toBeLessThanOrEqual(MAX_PTS_GAP_S);
  expectLiveThroughout(frames, liveLuma);
  const states = (await transitionsAt(db.pool, id)).map((t) => t.to);
  expect(states.slice(states.indexOf('running'))).toEqual(['running']);
  await viewer.stop();
  await db.pool.query(`UPDATE runs SET stop_requested_at = now() WHERE id = $1`, [id]);
  await waitForRun(db.pool, id, (r) => r.state === 'stopped', 15_000);
  return frames;
}

describe('fault: broken bitstream from the camera', () => {
  it('garbage and cut-out bytes in the stream: decoding goes on, the run stays up, the output keeps moving', async () => {
    // 4 s looped; from 25 % to 70 % of it, 200 garbage bytes every 6 KB, and three 3 KB holes (truncated units).
    const clean = await h264('clean.h264', '384x288', 0, 4);
    const bad = Buffer.from(clean);
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed & 0xff);
    for (let off = Math.floor(bad.length * 0.25); off < bad.length * 0.7; off += 6000) {
      for (let i = 0; i < 200; i++) bad[off + i] = rnd();
    }
    const holes = [0.35, 0.5, 0.65].map((f) => Math.floor(bad.length * f));
    const parts: Buffer[] = [];
    let from = 0;
    for (const h of holes) {
      parts.push(bad.subarray(from, h));
      from = h + 3000;
    }
    parts.push(bad.subarray(from));
    const file = join(dir, 'broken.h264');
    writeFileSync(file, Buffer.concat(parts));

    // The file really is broken: a decoder reading it reports damage.
    const check = await runToEnd('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-']);
    expect(check.stderr).toMatch(/error while decoding|concealing|Invalid/);

    await ridesThrough(file, 'broken'); // two passes and more through the broken part
  }, 90_000);

  it('a resolution change mid-stream (640x360 ↔ 768x576): the output keeps its size, pictures stay live', async () => {
    const file = join(dir, 'sizes.h264');
    writeFileSync(file, Buffer.concat([await h264('a.h264', '640x360', 0, 3), await h264('b.h264', '768x576', 20, 3)]));
    const frames = await ridesThrough(file, 'sizes'); // three changes of size at least
    expect(new Set(frames.map((f) => `${f.width}x${f.height}`))).toEqual(new Set(['640x360']));
  }, 90_000);
});
