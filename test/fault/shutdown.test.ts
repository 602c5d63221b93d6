import { describe, expect, it } from 'vitest';
import { startCamera } from '../helpers/cameras.js';
import type { TestDatabase } from '../helpers/db.js';
import { useEngineDatabase } from '../helpers/engineSuite.js';
import { MODELS_DIR, holdRunRows, insertRun, waitForRun } from '../helpers/engineFixtures.js';
import { childrenOf, freePort, isAlive, runToEnd, sleep, start, type Spawned } from '../helpers/processes.js';
import { SIE } from '../helpers/media.js';

/**
 * Fault suite: graceful shutdown of `sie engine` and `sie serve` (bin/sie runs dist/: build first) while
 * runs stream from live simulated cameras. SIGTERM, and a second SIGTERM while the first is being handled:
 * runs released to `pending` (another engine takes them), every ffmpeg child reaped, nothing half-written,
 * the shutdown logged. A second SIGTERM or SIGINT is logged and the drain goes on; the third forces an exit
 * (documented in src/cli/signals.ts).
 *
 * "During the shutdown" is made certain, not left to timing: the test holds the runs' rows locked (a slow
 * database, as the release meets it), so the release's write waits until the test lets it go.
 */

let db: TestDatabase;
let configId: string;
useEngineDatabase((f) => ({ db, configId } = f));


/** Processes whose command line contains `marker` (the camera's port is in each decoder's source URL). */
async function processesWith(marker: string): Promise<string[]> {
  const ps = await runToEnd('ps', ['-eo', 'pid=,args=']);
  return ps.stdout.split('\n').filter((l) => l.includes(marker) && !l.includes(' ps -eo'));
}

interface Setup {
  proc: Spawned;
  runIds: string[];
  camPorts: number[];
  ffmpegPids: number[];
}

/** Starts `sie <cmd>` with two runs on two live cameras and waits until both stream. */
async function startWithRuns(cmd: 'engine' | 'serve', extra: string[]): Promise<Setup> {
  const camPorts = [await freePort(), await freePort()];
  await Promise.all(camPorts.map((p) => startCamera(p)));
  const env = { SIE_DATABASE_URL: db.url, SIE_DATA_DIR: MODELS_DIR };
  const proc = start(SIE, [cmd, '--rtsp-port', String(await freePort()), '--lease-ttl', '30', '--poll-interval', '0.5', ...extra], env);
  await proc.waitFor(/^engine: /m, 30_000);
  const runIds: string[] = [];
  for (const p of camPorts) runIds.push(await insertRun(db.pool, configId, `rtsp://127.0.0.1:${p}/cam`, { output_mount: `shut-${p}` }));
  for (const id of runIds) await waitForRun(db.pool, id, (r) => r.state === 'running', 60_000);
  // A decoder and an encoder per run (the encoder starts with the first decoded frames).
  let ffmpegPids: number[] = [];
  for (const t0 = Date.now(); ffmpegPids.length < 4 && Date.now() - t0 < 30_000; await new Promise((r) => setTimeout(r, 200))) {
    ffmpegPids = childrenOf(proc.child.pid!)
      .filter((c) => /ffmpeg/.test(c.args))
      .map((c) => c.pid);
  }
  expect(ffmpegPids.length, 'ffmpeg children while streaming').toBe(4);
  for (const p of camPorts) expect(await processesWith(`127.0.0.1:${p}/cam`), `a decoder reads camera ${p}`).not.toEqual([]);
  return { proc, runIds, camPorts, ffmpegPids };
}

/** What a user must find after a clean shutdown: nothing running, nothing owned, every run handed back. */
async function expectReleased(s: Setup): Promise<void> {
  for (const pid of s.ffmpegPids) expect(isAlive(pid), `ffmpeg ${pid} reaped`).toBe(false);
  for (const p of s.camPorts) expect(await processesWith(`127.0.0.1:${p}/cam`), `no process left reading camera ${p}`).toEqual([]);
  const runs = await db.pool.query<{ id: string; state: string; engine_id: string | null }>(
    `SELECT id, state, engine_id FROM runs WHERE id = ANY($1)`,
    [s.runIds],
  );
  for (const r of runs.rows) expect({ state: r.state, engine_id: r.engine_id }, `run ${r.id}`).toEqual({ state: 'pending', engine_id: null });
  for (const id of s.runIds) {
    const t = await db.pool.query<{ from_state: string | null; to_state: string; reason: string | null }>(
      `SELECT from_state, to_state, reason FROM run_transitions WHERE run_id = $1 ORDER BY id`,
      [id],
    );
    // Claimed, running (a `retrying → connecting → running` after a stall on a loaded machine aside), released.
    expect(t.rows.map((x) => x.to_state).join(' '), `transitions of ${id}`).toMatch(
      /^pending starting connecting( retrying connecting)* running( (retrying|connecting|running))* pending$/,
    );
    // Each row follows from the one before (no write lost or repeated), the last is the release.
    for (let i = 1; i < t.rows.length; i++) expect(t.rows[i]!.from_state).toBe(t.rows[i - 1]!.to_state);
    expect(t.rows.at(-1)!.reason).toBe('released: engine shutting down');
  }
  const engines = await db.pool.query(`SELECT id FROM engines`);
  expect(engines.rows, 'engine row removed').toEqual([]);
}

/**
 * SIGTERM, and once its handling has begun (`stopping` logged) a second signal, which certainly lands during
 * the release (the rows are held meanwhile): it is logged, and the process carries on. Then the rows go.
 */
async function signalTwice(s: Setup, stopping: RegExp, second: NodeJS.Signals): Promise<void> {
  const held = await holdRunRows(db.pool, s.runIds);
  try {
    s.proc.child.kill('SIGTERM');
    await s.proc.waitFor(stopping, 10_000);
    await sleep(200); // further than DUPLICATE_WINDOW_MS: a second request, not one delivered twice
    s.proc.child.kill(second); // the release cannot be done: it waits for the rows
    await s.proc.waitFor(new RegExp(`${second} received: already draining, carrying on \\(signal 2 of 3`), 10_000);
    await sleep(500);
    expect(s.proc.child.exitCode, 'the second SIGTERM did not end the process mid-release').toBeNull();
  } finally {
    await held.release();
  }
}

describe('fault: graceful shutdown', () => {
  it('sie engine: SIGTERM, then a second SIGTERM during the shutdown: runs released, ffmpeg reaped, logged', async () => {
    const s = await startWithRuns('engine', []);
    await signalTwice(s, /engine stopping: releasing runs/, 'SIGTERM');
    const exit = await s.proc.exited;
    expect(exit, s.proc.stderr().slice(-3000)).toEqual({ code: 0, signal: null });
    expect(s.proc.stderr()).toMatch(/draining: releasing 2 run\(s\) to pending/);
    expect(s.proc.stderr()).toMatch(/draining: run released/);
    expect(s.proc.stderr()).toMatch(/engine stopped; runs released/);
    expect(s.proc.stdout()).toMatch(/^engine: stopped$/m);
    await expectReleased(s);
  }, 150_000);

  it('sie serve: SIGTERM then SIGINT (a wrapper and a Ctrl-C): the same, and the API is closed', async () => {
    const apiPort = await freePort();
    const s = await startWithRuns('serve', ['--port', String(apiPort)]);
    await s.proc.waitFor(/^api: /m, 20_000);
    expect((await fetch(`http://127.0.0.1:${apiPort}/v1/runs/${s.runIds[0]}`)).status).toBe(200);
    await signalTwice(s, /serve stopping/, 'SIGINT');
    const exit = await s.proc.exited;
    expect(exit, s.proc.stderr().slice(-3000)).toEqual({ code: 0, signal: null });
    expect(s.proc.stderr()).toMatch(/serve stopped/);
    await expect(fetch(`http://127.0.0.1:${apiPort}/v1/runs`)).rejects.toThrow();
    await expectReleased(s);
  }, 150_000);

  it('sie engine: a third signal during the shutdown forces an exit, logged, and still leaves no ffmpeg behind', async () => {
    const s = await startWithRuns('engine', []);
    const held = await holdRunRows(db.pool, s.runIds);
    let exit: { code: number | null; signal: NodeJS.Signals | null };
    try {
      s.proc.child.kill('SIGTERM');
      await s.proc.waitFor(/engine stopping: releasing runs/, 10_000);
      s.proc.child.kill('SIGINT'); // the release is still waiting for the rows
      await s.proc.waitFor(/already draining/, 10_000);
      await sleep(200);
      s.proc.child.kill('SIGINT');
      exit = await s.proc.exited;
    } finally {
      await held.release();
    }
    // Ended by the signal itself, as a shell reports it (130), not by an exit code.
    expect(exit, s.proc.stderr().slice(-3000)).toEqual({ code: null, signal: 'SIGINT' });
    expect(s.proc.stderr()).toMatch(/SIGINT received: forced exit during shutdown \(signal 3 of 3\); runs not released/);
    const deadline = Date.now() + 10_000;
    while (s.ffmpegPids.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const pid of s.ffmpegPids) expect(isAlive(pid), `ffmpeg ${pid} gone`).toBe(false);
  }, 150_000);
});
