import { afterEach, describe, expect, it } from 'vitest';
import { startCamera } from '../helpers/cameras.js';
import type { TestDatabase } from '../helpers/db.js';
import { useEngineDatabase } from '../helpers/engineSuite.js';
import { startEngine, stopAllEngines } from '../helpers/engineHarness.js';
import { insertRun, waitForRun } from '../helpers/engineFixtures.js';
import { freePort, runToEnd } from '../helpers/processes.js';

/**
 * One URL for a run through failover (issue 18 item 3): every engine's RTSP server answers a run it does
 * not hold with a 302 to the engine that does (looked up in PostgreSQL), so a consumer given any engine's
 * address (a Service in front of them all) reaches the run, and reaches it again after it moved.
 */
let db: TestDatabase;
let configId: string;
useEngineDatabase((f) => ({ db, configId } = f));
afterEach(() => stopAllEngines());

const probe = (url: string) =>
  runToEnd('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', url], 30_000);
const streamOf = (r: { code: number | null; stdout: string; stderr: string }) => {
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { streams: unknown[] }).streams[0];
};

describe('a stable stream URL', () => {
  it('the engine not holding the run redirects to the one that does; after failover the same URL is served directly', async () => {
    const cam = await freePort();
    await startCamera(cam);
    const a = await startEngine(db);
    const id = await insertRun(db.pool, configId, `rtsp://127.0.0.1:${cam}/cam`, { output_mount: 'lobby-cam' });
    const held = await waitForRun(db.pool, id, (r) => r.state === 'running', 60_000);
    expect(held.output_url).toBe(`rtsp://127.0.0.1:${a.server.port}/lobby-cam`);
    // The holder records the source it measured: the run's cost for later claims (run_costs, migration 0007).
    const measured = await waitForRun(db.pool, id, (r) => r.source_width !== null, 30_000);
    expect([measured.source_width, measured.source_height, measured.source_fps]).toEqual([768, 576, 10]);
    const cost = await db.pool.query<{ cost: number }>(`SELECT cost FROM run_costs WHERE run_id = $1`, [id]);
    expect(cost.rows[0]!.cost).toBe(236);
    // Engine B holds nothing; its address stands for the Service a consumer is given.
    const b = await startEngine(db);
    const stable = `rtsp://127.0.0.1:${b.server.port}/lobby-cam`;
    expect(streamOf(await probe(stable))).toEqual({ codec_name: 'h264', width: 768, height: 576 });
    // A mount no live run has is a 404 there, as before.
    expect((await probe(`rtsp://127.0.0.1:${b.server.port}/nobody`)).stderr).toMatch(/404/);

    // A drains (a rollout): the run is released and B claims it; the consumer's URL now lands on B itself.
    await a.engine.stop();
    await a.server.close();
    const moved = await waitForRun(db.pool, id, (r) => r.state === 'running' && r.output_url === stable, 60_000);
    expect(moved.output_url).toBe(stable);
    expect(streamOf(await probe(stable))).toEqual({ codec_name: 'h264', width: 768, height: 576 });
  }, 180_000);
});
