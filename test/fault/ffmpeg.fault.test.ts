import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertModelAndConfig, insertRun, waitForRun } from '../helpers/engineFixtures.js';
import { probeFrames } from '../helpers/media.js';
import { freePort, isAlive, killAll, sleep } from '../helpers/processes.js';
import { startCamera } from '../helpers/cameras.js';
import {
  CAMERA_SIZE,
  LIGHT_CONFIG,
  MAX_PTS_GAP_S,
  StreamWatcher,
  engineFfmpegs,
  median,
  startEngineProcess,
  transitionsAt,
  type EngineProcess,
} from '../helpers/mediaFaults.js';

/**
 * An ffmpeg of a run killed from outside (OOM killer, an operator's kill -9): found among the `sie engine`
 * process's children by its arguments, SIGKILLed, and the run must put a new one in its place.
 */

let db: TestDatabase;
let configId: string;
let engine: EngineProcess;
let runId: string;
let outputUrl: string;

beforeAll(async () => {
  db = await createTestDatabase();
  ({ configId } = await insertModelAndConfig(db.pool, 'acme', LIGHT_CONFIG));
  engine = await startEngineProcess(db.url, { stallTimeoutS: 2 });
  const camPort = await freePort();
  await startCamera(camPort, { size: CAMERA_SIZE });
  runId = await insertRun(db.pool, configId, `rtsp://127.0.0.1:${camPort}/cam`, {
    output_mount: 'ff',
    retry_max_attempts: 5,
    retry_backoff_initial_s: 0.2,
    retry_backoff_max_s: 0.5,
    connect_timeout_s: 10,
  });
  outputUrl = (await waitForRun(db.pool, runId, (r) => r.state === 'running', 40_000)).output_url!;
});

afterAll(async () => {
  await killAll();
  await db?.drop();
});

/** Exactly one decoder and one encoder under the engine, none of them a zombie; waits for it a while. */
async function expectOnePairOfFfmpegs(): Promise<{ decoder: number; encoder: number }> {
  const t0 = Date.now();
  for (;;) {
    const f = engineFfmpegs(engine.pid);
    if (f.decoder.length === 1 && f.encoder.length === 1 && f.zombies.length === 0) return { decoder: f.decoder[0]!.pid, encoder: f.encoder[0]!.pid };
    if (Date.now() - t0 > 10_000) {
      expect(f, 'ffmpeg children of the engine').toEqual({ decoder: [expect.anything()], encoder: [expect.anything()], zombies: [] });
    }
    await sleep(200);
  }
}

describe('fault: an ffmpeg killed from outside', () => {
  it('decoder (ffmpeg #1): the run reconnects and is running again, the reader stays, no process left over', async () => {
    const before = await expectOnePairOfFfmpegs();
    const viewer = new StreamWatcher(outputUrl);
    await viewer.waitFrames(20, 30_000);
    const liveLuma = median(viewer.frames.map((f) => f.luma));
    const nTransitions = (await transitionsAt(db.pool, runId)).length;

    const killedAt = Date.now();
    process.kill(before.decoder, 'SIGKILL');
    await waitForRun(db.pool, runId, (r) => r.state === 'retrying', 15_000);
    await waitForRun(db.pool, runId, (r) => r.state === 'running', 20_000);
    const after = (await transitionsAt(db.pool, runId)).slice(nTransitions);
    expect(after.map((t) => t.to)).toEqual(['retrying', 'connecting', 'running']);
    expect(after[0]!.errorKind).toBe('source_lost');
    await viewer.waitFor((f) => f.luma > liveLuma * 0.8, Date.now(), 15_000, 'live video after the restart');

    const now = await expectOnePairOfFfmpegs();
    expect(now.decoder).not.toBe(before.decoder);
    expect(now.encoder, 'the encoder was left alone').toBe(before.encoder);
    expect(isAlive(before.decoder), 'the killed decoder was reaped').toBe(false);
    expect(viewer.alive, 'reader still connected').toBe(true);
    expect(viewer.largestPtsGap(killedAt), 'largest pts step (s)').toBeLessThanOrEqual(MAX_PTS_GAP_S);
    await viewer.stop();
  }, 90_000);

  it('encoder (ffmpeg #2): a new encoder takes over, the run stays running, the output stays up', async () => {
    const before = await expectOnePairOfFfmpegs();
    const viewer = new StreamWatcher(outputUrl);
    await viewer.waitFrames(20, 30_000);
    const nTransitions = (await transitionsAt(db.pool, runId)).length;

    const killedAt = Date.now();
    process.kill(before.encoder, 'SIGKILL');
    const now = await expectOnePairOfFfmpegs();
    expect(now.encoder).not.toBe(before.encoder);
    expect(now.decoder, 'the decoder was left alone').toBe(before.decoder);
    expect(isAlive(before.encoder), 'the killed encoder was reaped').toBe(false);

    // The reader of before may carry on through the short gap (it did here); the mount never went away.
    await viewer.waitFrames(viewer.frames.filter((f) => f.wallMs < killedAt).length + 20, 20_000);
    expect(viewer.alive, 'reader still connected').toBe(true);
    expect(viewer.largestPtsGap(killedAt), 'largest pts step (s)').toBeLessThanOrEqual(MAX_PTS_GAP_S);
    await viewer.stop();
    // A new client gets the stream from the new encoder.
    const probe = await probeFrames(outputUrl, 'tcp', 3);
    expect(probe.codec).toBe('h264');
    expect(probe.pts.length).toBeGreaterThanOrEqual(15);

    await sleep(1000);
    expect((await waitForRun(db.pool, runId, () => true, 1000)).state).toBe('running');
    expect((await transitionsAt(db.pool, runId)).slice(nTransitions), 'no transition: nothing the user would call an outage').toEqual([]);
  }, 90_000);
});
