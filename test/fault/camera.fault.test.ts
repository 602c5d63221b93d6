import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { getRun, insertModelAndConfig, waitForRun } from '../helpers/engineFixtures.js';
import { killAll, runToEnd, sleep } from '../helpers/processes.js';
import { startCamera } from '../helpers/cameras.js';
import {
  CAMERA_SIZE,
  LIGHT_CONFIG,
  MAX_PTS_GAP_S,
  startEngineProcess,
  startWatchedRun,
  transitionsAt,
  waitForTransition,
  type EngineProcess,
} from '../helpers/mediaFaults.js';

/**
 * A camera that dies, as a viewer of the output and the runs table see it. `sie engine` and `sie camera`
 * run as processes (the compiled dist/: build first); the output is read by an independent ffmpeg.
 */

let db: TestDatabase;
let configId: string;
let engine: EngineProcess;

beforeAll(async () => {
  db = await createTestDatabase();
  ({ configId } = await insertModelAndConfig(db.pool, 'acme', LIGHT_CONFIG));
  engine = await startEngineProcess(db.url, { stallTimeoutS: 2 });
});

afterAll(async () => {
  await killAll();
  await db?.drop();
});

/** A picture of the "signal lost" slate: the last frame dimmed to about a third. */
const isSlate = (liveLuma: number) => (f: { luma: number }) => f.luma < liveLuma * 0.6;
const isLive = (liveLuma: number) => (f: { luma: number }) => f.luma > liveLuma * 0.8;

describe('fault: the camera drops and comes back', () => {
  it('keeps the output and its reader up with the slate, retries, and shows live video again within 5 s', async () => {
    // One viewer connected before the drop, kept to the end.
    const w = await startWatchedRun(
      db.pool,
      configId,
      { output_mount: 'drop', retry_max_attempts: 50, retry_backoff_initial_s: 0.2, retry_backoff_max_s: 0.5, connect_timeout_s: 5 },
      { frames: 30 },
    );
    const { camPort, id, viewer, liveLuma } = w;
    let cam = w.cam;
    expect(w.outputUrl).toBe(`rtsp://127.0.0.1:${engine.rtspPort}/drop`);
    const watchFrom = viewer.frames[0]!.wallMs;

    const killedAt = Date.now();
    cam.child.kill('SIGKILL'); // no TEARDOWN, no goodbye: the camera is simply gone
    await cam.exited;
    const lost = await waitForTransition(db.pool, id, 'retrying', 15_000);
    const slate = await viewer.waitFor(isSlate(liveLuma), killedAt, 10_000, 'slate');
    // In the stream's own time: the slate follows the detected loss within a second (0.3 s for our
    // mapping of clocks); a dropped connection is detected at once, so it also follows the kill closely.
    expect(slate.pts - viewer.ptsAt(lost.atMs), 'slate after the loss was detected (s)').toBeLessThanOrEqual(1.3);
    expect(slate.pts - viewer.ptsAt(killedAt), 'slate after the kill (s)').toBeLessThanOrEqual(3);

    // The camera stays away a few seconds (several reconnect attempts fail), then returns on its port.
    await sleep(Math.max(0, killedAt + 3000 - Date.now()));
    cam = await startCamera(camPort, { size: CAMERA_SIZE });
    const backAt = Date.now();
    const live = await viewer.waitFor(isLive(liveLuma), backAt, 15_000, 'live video after the return');
    expect(live.pts - viewer.ptsAt(backAt), 'live video after the camera returned (s)').toBeLessThanOrEqual(5);
    await waitForRun(db.pool, id, (r) => r.state === 'running', 15_000);
    await sleep(1500);

    // The same reader session all along: it never exited, and pictures came without a gap (beyond scheduling).
    expect(viewer.alive, 'reader still connected').toBe(true);
    const endAt = Date.now();
    await viewer.stop();
    expect(viewer.largestPtsGap(watchFrom, endAt), 'largest pts step seen by the reader (s)').toBeLessThanOrEqual(MAX_PTS_GAP_S);
    const seen = viewer.frames.filter((f) => f.wallMs >= killedAt);
    expect(seen.some(isSlate(liveLuma)) && seen.at(-1)!.luma > liveLuma * 0.8).toBe(true);

    const states = (await transitionsAt(db.pool, id)).map((t) => t.to);
    const firstRunning = states.indexOf('running');
    expect(states.slice(0, firstRunning + 1)).toEqual(['pending', 'starting', 'connecting', 'running']);
    // running → (retrying → connecting)+ → running, and nothing else.
    expect(states.slice(firstRunning).join(' ')).toMatch(/^running( retrying connecting)+ running$/);
    await db.pool.query(`UPDATE runs SET stop_requested_at = now() WHERE id = $1`, [id]);
    await waitForRun(db.pool, id, (r) => r.state === 'stopped', 15_000);
    cam.child.kill('SIGTERM');
    await cam.exited;
  }, 120_000);
});

describe('fault: the camera never comes back', () => {
  it('fails with source_lost after the configured retries, slate until then, and the mount is removed', async () => {
    const { cam, id, viewer, liveLuma, outputUrl } = await startWatchedRun(db.pool, configId, {
      output_mount: 'gone',
      retry_max_attempts: 3,
      retry_backoff_initial_s: 0.5,
      retry_backoff_max_s: 1,
      connect_timeout_s: 10,
    });

    const killedAt = Date.now();
    cam.child.kill('SIGKILL');
    await cam.exited;
    const failed = await waitForTransition(db.pool, id, 'failed', 40_000);
    const row = await getRun(db.pool, id);
    expect(row.error_kind).toBe('source_lost');
    expect(row.attempts).toBeGreaterThanOrEqual(3);
    const states = (await transitionsAt(db.pool, id)).map((t) => t.to);
    const after = states.slice(states.indexOf('running'));
    expect(after.filter((s) => s === 'connecting').length, after.join(' ')).toBe(3);
    expect(after.at(-1)).toBe('failed');

    // Until the run failed the reader saw the slate (from a second after the loss on), to its last moments.
    const outage = viewer.frames.filter((f) => f.wallMs > killedAt + 1500 && f.wallMs <= failed.atMs);
    expect(outage.length).toBeGreaterThan(10);
    expect(outage.every(isSlate(liveLuma)), 'every picture of the outage is the slate').toBe(true);
    expect(outage.at(-1)!.wallMs, 'slate shown until the run failed').toBeGreaterThan(failed.atMs - 1500);

    // Then the output is gone: a new client is told 404, the old one is disconnected.
    const probe = await runToEnd('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', outputUrl], 20_000);
    expect(probe.code).not.toBe(0);
    expect(probe.stderr).toMatch(/404|not found/i);
    await Promise.race([viewer.proc.exited, sleep(15_000)]);
    expect(viewer.alive, 'the reader of a removed mount is disconnected').toBe(false);
  }, 120_000);
});
