import { describe, expect, it } from 'vitest';
import { startCamera } from '../helpers/cameras.js';
import type { TestDatabase } from '../helpers/db.js';
import { useEngineDatabase } from '../helpers/engineSuite.js';
import { MODELS_DIR, getRun, holdRunRows, insertRun, waitForRun } from '../helpers/engineFixtures.js';
import { childrenOf, freePort, isAlive, sleep, start } from '../helpers/processes.js';
import { SIE } from '../helpers/media.js';
import { DUPLICATE_WINDOW_MS, shutdownSteps } from '../../src/cli/signals.js';

let db: TestDatabase;
let configId: string;
useEngineDatabase((f) => ({ db, configId } = f));

describe('shutdown signals: what each one means', () => {
  it('first drains, second is logged, third forces; the same signal again within the window is one request', () => {
    let ms = 0;
    const step = shutdownSteps(() => ms);
    expect(step('SIGTERM')).toEqual({ kind: 'drain', count: 1 });
    ms += 2; // timeout's second copy, sent to the process group
    expect(step('SIGTERM')).toEqual({ kind: 'duplicate', count: 1, afterMs: 2 });
    ms += 1000;
    expect(step('SIGINT')).toEqual({ kind: 'repeat', count: 2 });
    ms += DUPLICATE_WINDOW_MS - 1;
    expect(step('SIGINT')).toEqual({ kind: 'duplicate', count: 2, afterMs: DUPLICATE_WINDOW_MS - 1 });
    ms += 1; // a different signal is never a duplicate, however close
    expect(step('SIGTERM')).toEqual({ kind: 'force', count: 3 });
    expect(step('SIGTERM')).toEqual({ kind: 'exiting', count: 3 });
  });

  it('a person pressing Ctrl-C three times, slower than the window, forces at the third', () => {
    let ms = 0;
    const step = shutdownSteps(() => ms);
    const kinds = [0, 1, 2].map(() => ((ms += DUPLICATE_WINDOW_MS), step('SIGINT').kind));
    expect(kinds).toEqual(['drain', 'repeat', 'force']);
  });
});


/**
 * The case issue 17 found: `timeout` (coreutils) passes a SIGTERM it receives (or sends one when its time
 * is up) to its child and then to its whole process group, so `sie engine` under it gets one request as
 * two SIGTERMs (and its ffmpeg children one each; the kernel merges the two only when the first has not
 * been handled yet). Counted as two, an operator's next SIGTERM would force an exit. The engine must count
 * requests, not deliveries: the second request is logged "already draining" and the
 * drain goes on to the end (run released to `pending`, engine row gone, `engine: stopped`). A real engine
 * on a real database, a run streaming from a live simulated camera.
 */
describe('sie engine under timeout', () => {
  it('two SIGTERMs through timeout: the second logged as already draining, the run still released', async () => {
    const camPort = await freePort();
    await startCamera(camPort);
    const env = { SIE_DATABASE_URL: db.url, SIE_DATA_DIR: MODELS_DIR };
    const args = [SIE, 'engine', '--rtsp-port', String(await freePort()), '--lease-ttl', '30', '--poll-interval', '0.5'];
    const wrapper = start('timeout', ['600', ...args], env);
    let enginePid: number | undefined;
    let held: { release(): Promise<void> } | undefined;
    try {
      await wrapper.waitFor(/^engine: /m, 30_000);
      enginePid = childrenOf(wrapper.child.pid!).find((c) => /main\.js engine/.test(c.args))?.pid;
      expect(enginePid, 'sie engine runs under timeout').toBeDefined();
      const id = await insertRun(db.pool, configId, `rtsp://127.0.0.1:${camPort}/cam`, { output_mount: `sig-${camPort}` });
      await waitForRun(db.pool, id, (r) => r.state === 'running', 60_000);

      held = await holdRunRows(db.pool, [id]);
      wrapper.child.kill('SIGTERM'); // timeout passes it on: to sie engine, then to its process group
      await wrapper.waitFor(/engine: SIGTERM received: draining \(releasing runs\)/, 10_000);
      await sleep(300);
      // timeout ignores SIGTERM once it has sent one to its group: the operator's second goes to the engine.
      process.kill(enginePid!, 'SIGTERM'); // while the release waits for the row
      await wrapper.waitFor(/engine: SIGTERM received: already draining, carrying on \(signal 2 of 3/, 10_000);
      await sleep(500);
      expect(isAlive(enginePid!), 'still draining after the second request').toBe(true);
      await held.release();

      const exit = await wrapper.exited;
      const log = wrapper.stderr();
      expect(log).not.toMatch(/forced exit/);
      expect(log).toMatch(/draining: releasing 1 run\(s\) to pending/);
      expect(log).toMatch(/draining: run released/);
      expect(log).toMatch(/engine stopped; runs released/);
      expect(wrapper.stdout()).toMatch(/^engine: stopped$/m);
      expect(exit.signal, log.slice(-3000)).toBeNull();

      const row = await getRun(db.pool, id);
      expect({ state: row.state, engine_id: row.engine_id }).toEqual({ state: 'pending', engine_id: null });
      const last = await db.pool.query<{ to_state: string; reason: string }>(
        `SELECT to_state, reason FROM run_transitions WHERE run_id = $1 ORDER BY id DESC LIMIT 1`,
        [id],
      );
      expect(last.rows[0]).toEqual({ to_state: 'pending', reason: 'released: engine shutting down' });
      expect((await db.pool.query(`SELECT id FROM engines`)).rows, 'engine row removed').toEqual([]);
    } finally {
      await held?.release();
      if (enginePid !== undefined && isAlive(enginePid)) process.kill(enginePid, 'SIGKILL');
    }
  }, 150_000);
});
