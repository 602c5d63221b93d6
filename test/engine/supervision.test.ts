import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startEngine as startEngineOn, stopAllEngines, type EngineHarnessOptions } from '../helpers/engineHarness.js';
import { MODELS_DIR, getRun, insertModelAndConfig, insertRun, transitions, waitForRun } from '../helpers/engineFixtures.js';
import { childrenOf, freePort, isZombie, killAll, sleep, start, until } from '../helpers/processes.js';
import { PLAZA, SHARED, SIE } from '../helpers/media.js';

/**
 * How the engine keeps a run to itself and lets go of it: the lease fence on every transition write, an
 * engine paused past its lease, LISTEN coming back after its connection is killed, and --max-runs. Runs read
 * the plaza clip as a file source at its own rate (80 s: long enough to stay `running` through a test).
 */

let db: TestDatabase;
let configId: string;
const startEngine = (opts: EngineHarnessOptions = {}) => startEngineOn(db, { mediaRoot: SHARED, ...opts });

interface FencedRow {
  state: string;
  engine_id: string | null;
  lease_epoch: string;
  attempts: number;
  error_kind: string | null;
  ended_at: Date | null;
}

async function fencedRow(pool: Pool, id: string): Promise<FencedRow> {
  const r = await pool.query<FencedRow>(`SELECT state, engine_id, lease_epoch::text, attempts, error_kind, ended_at FROM runs WHERE id = $1`, [id]);
  return r.rows[0]!;
}

/** The live (not zombie) child processes of `pid`: the engine's ffmpeg processes. */
const liveChildrenOf = (pid: number) => childrenOf(pid).filter((c) => !isZombie(c));

beforeAll(async () => {
  db = await createTestDatabase();
  ({ configId } = await insertModelAndConfig(db.pool));
});

afterEach(async () => {
  await stopAllEngines();
  await killAll();
  // Each test starts from an empty queue: runs an engine released on its way out would be claimed first.
  await db.pool.query(`DELETE FROM runs`);
  await db.pool.query(`DELETE FROM engines`);
});

afterAll(async () => {
  await db?.drop();
});

describe('the lease fence', () => {
  it.each([
    ['another engine took the run (owner and epoch changed)', true],
    ['a newer claim moved the epoch on', false],
  ])('%s: the engine stops its copy without writing anything', async (_what, usurp) => {
    const { engine, server } = await startEngine();
    const mount = `fence-${usurp ? 'usurped' : 'epoch'}`;
    const id = await insertRun(db.pool, configId, `file://${PLAZA}`, { output_mount: mount });
    await waitForRun(db.pool, id, (r) => r.state === 'running', 60_000);
    expect(engine.runs.has(id)).toBe(true);
    expect(server.getMount(mount)).toBeDefined();

    // What a claim by another engine does to the row, done from under our running engine.
    if (usurp) {
      await db.pool.query(`INSERT INTO engines (id, hostname, advertise_host, rtsp_port, max_runs, lease_expires_at) VALUES ('usurper', 'elsewhere', '127.0.0.2', 8554, 4, now() + interval '1 hour')`);
      await db.pool.query(`UPDATE runs SET engine_id = 'usurper', lease_epoch = lease_epoch + 1 WHERE id = $1`, [id]);
    } else {
      await db.pool.query(`UPDATE runs SET lease_epoch = lease_epoch + 1 WHERE id = $1`, [id]);
    }
    const before = await fencedRow(db.pool, id);
    const history = await transitions(db.pool, id);

    // A stop request makes our engine change the run's state: its 'stopping' write is fenced out, and it
    // must then stop the run without writing 'stopping', 'stopped' or anything else.
    await db.pool.query(`UPDATE runs SET stop_requested_at = now() WHERE id = $1`, [id]);
    await until(() => !engine.runs.has(id), 30_000, 'the engine to drop its copy of the run');
    expect(server.getMount(mount)).toBeUndefined();
    await sleep(1500); // counters are flushed once a second: give a stray write the chance to show
    expect(await fencedRow(db.pool, id)).toEqual(before);
    expect(await transitions(db.pool, id)).toEqual(history);
  }, 120_000);
});

describe('a paused engine', () => {
  it('paused past its lease loses the run to another engine, writes nothing for it when it wakes, and works again', async () => {
    const env = { SIE_DATABASE_URL: db.url, SIE_DATA_DIR: MODELS_DIR, SIE_MEDIA_ROOT: SHARED };
    const a = start(SIE, ['engine', '--rtsp-port', String(await freePort()), '--lease-ttl', '2', '--poll-interval', '0.5', '--max-runs', '2'], env);
    const aId = (await a.waitFor(/^engine: (\S+)/m, 30_000))[1]!;
    const pid = a.child.pid!;
    const first = await insertRun(db.pool, configId, `file://${PLAZA}`, { output_mount: 'paused-1' });
    await waitForRun(db.pool, first, (r) => r.state === 'running' && r.engine_id === aId, 60_000);
    expect(liveChildrenOf(pid).length).toBeGreaterThan(0); // its decoder and encoder

    // SIGSTOP: the process, its timers and its heartbeat freeze; its lease runs out and B takes the run.
    process.kill(pid, 'SIGSTOP');
    try {
      const b = await startEngine({ maxRuns: 1, leaseTtlS: 10 });
      await waitForRun(db.pool, first, (r) => r.state === 'running' && r.engine_id === b.engine.id, 60_000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const takenAt = (await db.pool.query<{ id: string }>(`SELECT max(id)::text AS id FROM run_transitions WHERE run_id = $1`, [first])).rows[0]!.id;

    // Awake: A learns its lease is gone and stops its copy of the run (its ffmpeg processes end).
    await a.waitFor(/engine lease lost/, 30_000);
    await until(() => liveChildrenOf(pid).length === 0, 30_000, 'A to stop its ffmpeg processes');
    const stale = await db.pool.query(`SELECT to_state, reason FROM run_transitions WHERE run_id = $1 AND id > $2::bigint AND engine_id = $3`, [first, takenAt, aId]);
    expect(stale.rows).toEqual([]);
    const now = await getRun(db.pool, first);
    expect(now.state).toBe('running');
    expect(now.engine_id).not.toBe(aId);

    // And it works again: registered anew, it claims a new run (B is full).
    const second = await insertRun(db.pool, configId, `file://${PLAZA}`, { output_mount: 'paused-2' });
    await waitForRun(db.pool, second, (r) => r.state === 'running' && r.engine_id === aId, 60_000);
  }, 180_000);
});

describe('LISTEN', () => {
  it('comes back after its connection is killed: a run inserted afterwards is picked up by NOTIFY, not by polling', async () => {
    // Polling every 10 minutes: within this test only a NOTIFY can make the engine claim.
    await startEngine({ pollIntervalS: 600 });
    const listeners = async () =>
      (
        await db.pool.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN%'`,
        )
      ).rows.map((r) => r.pid);
    await until(async () => (await listeners()).length === 1, 30_000, 'the engine to LISTEN');
    const [killed] = await listeners();
    const before = await insertRun(db.pool, configId, 'rtsp://127.0.0.1:1/none', { connect_timeout_s: 2 });
    await waitForRun(db.pool, before, (r) => r.state !== 'pending', 30_000);

    await db.pool.query(`SELECT pg_terminate_backend($1)`, [killed]);
    await until(async () => {
      const now = await listeners();
      return now.length === 1 && now[0] !== killed;
    }, 90_000, 'a new LISTEN connection');
    const after = await insertRun(db.pool, configId, 'rtsp://127.0.0.1:1/none', { connect_timeout_s: 2 });
    await waitForRun(db.pool, after, (r) => r.state !== 'pending', 60_000);
  }, 180_000);
});

describe('--max-runs', () => {
  it('an engine with --max-runs 1 runs one run at a time: the second waits and is claimed when the first ends', async () => {
    const env = { SIE_DATABASE_URL: db.url, SIE_DATA_DIR: MODELS_DIR, SIE_MEDIA_ROOT: SHARED };
    const e = start(SIE, ['engine', '--rtsp-port', String(await freePort()), '--max-runs', '1', '--poll-interval', '0.5'], env);
    const eId = (await e.waitFor(/^engine: (\S+)/m, 30_000))[1]!;
    const first = await insertRun(db.pool, configId, `file://${PLAZA}`, { output_mount: 'max-1' });
    const second = await insertRun(db.pool, configId, `file://${PLAZA}`, { output_mount: 'max-2' });
    const owned = async () =>
      Number(
        (
          await db.pool.query<{ n: string }>(
            `SELECT count(*)::text AS n FROM runs WHERE engine_id = $1 AND state NOT IN ('pending', 'stopped', 'failed', 'completed')`,
            [eId],
          )
        ).rows[0]!.n,
      );
    await waitForRun(db.pool, first, (r) => r.state === 'running' && r.engine_id === eId, 60_000);
    // Several polls and NOTIFYs go by (the first run's own transitions): the second stays pending.
    await sleep(3000);
    expect((await getRun(db.pool, second)).state).toBe('pending');
    expect(await transitions(db.pool, second)).toEqual(['pending']);
    expect(await owned()).toBe(1);

    await db.pool.query(`UPDATE runs SET stop_requested_at = now() WHERE id = $1`, [first]);
    await until(async () => {
      expect(await owned()).toBeLessThanOrEqual(1);
      return (await getRun(db.pool, second)).state === 'running';
    }, 60_000, 'the second run to be running');
    expect((await getRun(db.pool, first)).state).toBe('stopped');
    expect((await getRun(db.pool, second)).engine_id).toBe(eId);
  }, 150_000);
});
