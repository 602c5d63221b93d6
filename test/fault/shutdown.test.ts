import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { MODELS_DIR, insertModelAndConfig, insertRun, waitForRun } from '../helpers/engineFixtures.js';
import { freePort, isAlive, killAll, runToEnd, start, type Spawned } from '../helpers/processes.js';
import { PLAZA, SIE } from '../helpers/media.js';

/**
 * Fault suite: graceful shutdown of `sie engine` and `sie serve` (bin/sie runs dist/: build first) while
 * runs stream from live simulated cameras. SIGTERM, and a second SIGTERM while the first is being handled:
 * runs released to `pending` (another engine takes them), every ffmpeg child reaped, nothing half-written,
 * the shutdown logged. A SIGINT during the shutdown forces an exit (documented in src/cli/signals.ts).
 */

let db: TestDatabase;
let configId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  ({ configId } = await insertModelAndConfig(db.pool));
});

afterEach(async () => {
  await killAll();
});

afterAll(async () => {
  await db?.drop();
});

async function camera(port: number): Promise<Spawned> {
  const p = start(SIE, ['camera', PLAZA, '--port', String(port), '--mount', 'cam']);
  await p.waitFor(/^camera: /m, 30_000);
  return p;
}

/** Every process on the machine whose parent is `pid`, with its command line. */
async function childrenOf(pid: number): Promise<{ pid: number; args: string }[]> {
  const ps = await runToEnd('ps', ['-eo', 'pid=,ppid=,args=']);
  return ps.stdout
    .split('\n')
    .map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/))
    .filter((m): m is RegExpMatchArray => m !== null && Number(m[2]) === pid)
    .map((m) => ({ pid: Number(m[1]), args: m[3]! }));
}

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
  await Promise.all(camPorts.map((p) => camera(p)));
  const env = { SIE_DATABASE_URL: db.url, SIE_DATA_DIR: MODELS_DIR };
  const proc = start(SIE, [cmd, '--rtsp-port', String(await freePort()), '--lease-ttl', '30', '--poll-interval', '0.5', ...extra], env);
  await proc.waitFor(/^engine: /m, 30_000);
  const runIds: string[] = [];
  for (const p of camPorts) runIds.push(await insertRun(db.pool, configId, `rtsp://127.0.0.1:${p}/cam`, { output_mount: `shut-${p}` }));
  for (const id of runIds) await waitForRun(db.pool, id, (r) => r.state === 'running', 60_000);
  // A decoder and an encoder per run (the encoder starts with the first decoded frames).
  let ffmpegPids: number[] = [];
  for (const t0 = Date.now(); ffmpegPids.length < 4 && Date.now() - t0 < 30_000; await new Promise((r) => setTimeout(r, 200))) {
    ffmpegPids = (await childrenOf(proc.child.pid!)).filter((c) => /ffmpeg/.test(c.args)).map((c) => c.pid);
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
    expect(t.rows.map((x) => x.to_state), `transitions of ${id}`).toEqual(['pending', 'starting', 'connecting', 'running', 'pending']);
    // Each row follows from the one before (no write lost or repeated), the last is the release.
    for (let i = 1; i < t.rows.length; i++) expect(t.rows[i]!.from_state).toBe(t.rows[i - 1]!.to_state);
    expect(t.rows.at(-1)!.reason).toBe('released: engine shutting down');
  }
  const engines = await db.pool.query(`SELECT id FROM engines`);
  expect(engines.rows, 'engine row removed').toEqual([]);
}

describe('fault: graceful shutdown', () => {
  it('sie engine: SIGTERM, then a second SIGTERM during the shutdown: runs released, ffmpeg reaped, logged', async () => {
    const s = await startWithRuns('engine', []);
    s.proc.child.kill('SIGTERM');
    await s.proc.waitFor(/engine stopping: releasing runs/, 10_000);
    s.proc.child.kill('SIGTERM'); // before the release is done: must not abandon it
    const exit = await s.proc.exited;
    expect(exit, s.proc.stderr().slice(-3000)).toEqual({ code: 0, signal: null });
    expect(s.proc.stderr()).toMatch(/already shutting down/);
    expect(s.proc.stderr()).toMatch(/engine stopped; runs released/);
    expect(s.proc.stdout()).toMatch(/^engine: stopped$/m);
    await expectReleased(s);
  }, 150_000);

  it('sie serve: SIGTERM twice: the same, and the API is closed', async () => {
    const apiPort = await freePort();
    const s = await startWithRuns('serve', ['--port', String(apiPort)]);
    await s.proc.waitFor(/^api: /m, 20_000);
    expect((await fetch(`http://127.0.0.1:${apiPort}/v1/runs/${s.runIds[0]}`)).status).toBe(200);
    s.proc.child.kill('SIGTERM');
    await s.proc.waitFor(/serve stopping/, 10_000);
    s.proc.child.kill('SIGTERM');
    const exit = await s.proc.exited;
    expect(exit, s.proc.stderr().slice(-3000)).toEqual({ code: 0, signal: null });
    expect(s.proc.stderr()).toMatch(/already shutting down/);
    expect(s.proc.stderr()).toMatch(/serve stopped/);
    await expect(fetch(`http://127.0.0.1:${apiPort}/v1/runs`)).rejects.toThrow();
    await expectReleased(s);
  }, 150_000);

  it('sie engine: SIGINT during the shutdown forces an exit, logged, and still leaves no ffmpeg behind', async () => {
    const s = await startWithRuns('engine', []);
    s.proc.child.kill('SIGTERM');
    await s.proc.waitFor(/engine stopping: releasing runs/, 10_000);
    s.proc.child.kill('SIGINT');
    const exit = await s.proc.exited;
    // 130 when forced; 0 if the release happened to finish before the SIGINT arrived (then it was graceful).
    expect([0, 130], s.proc.stderr().slice(-3000)).toContain(exit.code);
    if (exit.code === 130) expect(s.proc.stderr()).toMatch(/forced exit during shutdown/);
    const deadline = Date.now() + 10_000;
    while (s.ffmpegPids.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const pid of s.ffmpegPids) expect(isAlive(pid), `ffmpeg ${pid} gone`).toBe(false);
  }, 150_000);
});
