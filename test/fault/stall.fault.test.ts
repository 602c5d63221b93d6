import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertModelAndConfig, waitForRun } from '../helpers/engineFixtures.js';
import { killAll } from '../helpers/processes.js';
import { LIGHT_CONFIG, MAX_PTS_GAP_S, startEngineProcess, startWatchedRun, transitionsAt, waitForTransition } from '../helpers/mediaFaults.js';

/**
 * A camera that freezes: its process is stopped (SIGSTOP), so the TCP connection stays open and nothing
 * is sent, not even a FIN. Only the engine's watchdog (`--stall-timeout`) can notice; ffmpeg's own socket
 * timeout (the run's connect_timeout_s, 10 s here) would take far longer.
 */

const STALL_S = 2;
let db: TestDatabase;
let configId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  ({ configId } = await insertModelAndConfig(db.pool, 'acme', LIGHT_CONFIG));
  await startEngineProcess(db.url, { stallTimeoutS: STALL_S });
});

afterAll(async () => {
  await killAll();
  await db?.drop();
});

describe('fault: a camera that stalls with its connection open', () => {
  it('is detected after the stall timeout (not before, not much later), shows the slate, and recovers', async () => {
    const { cam, id, viewer, liveLuma } = await startWatchedRun(db.pool, configId, {
      output_mount: 'stall',
      retry_max_attempts: 20,
      retry_backoff_initial_s: 0.2,
      retry_backoff_max_s: 0.5,
      connect_timeout_s: 10,
    });

    const stalledAt = Date.now();
    cam.child.kill('SIGSTOP');
    try {
      const lost = await waitForTransition(db.pool, id, 'retrying', 20_000);
      const waited = lost.atMs - stalledAt;
      // The watchdog counts from the last frame that arrived, which may have come up to one frame period
      // (0.1 s at the camera's 10 fps) before the stop: detection comes no earlier than the timeout minus
      // that. (With inference off the event loop, arrivals are stamped when they happen, not after a
      // detection has let the loop go, so this margin is now reached.)
      expect(waited, 'ms from the stall to retrying').toBeGreaterThanOrEqual(STALL_S * 1000 - 100 - 50);
      expect(waited, 'ms from the stall to retrying').toBeLessThanOrEqual(STALL_S * 1000 + 2000);
      const all = await transitionsAt(db.pool, id);
      expect(all.find((t) => t.to === 'retrying')?.errorKind).toBe('source_lost');
      const msg = await db.pool.query<{ error_message: string }>(
        `SELECT error_message FROM run_transitions WHERE run_id = $1 AND to_state = 'retrying' ORDER BY id LIMIT 1`,
        [id],
      );
      expect(msg.rows[0]!.error_message).toMatch(new RegExp(`no frame from the source for ${STALL_S} s`));

      // The viewer sees the slate (the output never stalled with the camera).
      const slate = await viewer.waitFor((f) => f.luma < liveLuma * 0.6, stalledAt, 10_000, 'slate');
      expect(slate.pts - viewer.ptsAt(lost.atMs), 'slate after the stall was detected (s)').toBeLessThanOrEqual(1.3);
      expect(viewer.largestPtsGap(), 'largest pts step (s)').toBeLessThanOrEqual(MAX_PTS_GAP_S);
      // The stall (STALL_S) is shorter than that bound: that the output kept ticking while the camera was
      // frozen (the last picture repeated) shows in the pictures the reader got meanwhile: 10 fps over at
      // least 1.3 s (past those still on their way at the stop); a floor for a loaded machine.
      const duringStall = viewer.frames.filter((f) => f.wallMs > stalledAt + 700 && f.wallMs < lost.atMs).length;
      expect(duringStall, 'pictures received while the camera was frozen, before the loss was detected').toBeGreaterThanOrEqual(4);
    } finally {
      cam.child.kill('SIGCONT');
    }
    // Unfrozen, the camera answers again and the same run goes back to running.
    const resumedAt = Date.now();
    await waitForRun(db.pool, id, (r) => r.state === 'running', 30_000);
    await viewer.waitFor((f) => f.luma > liveLuma * 0.8, resumedAt, 20_000, 'live video after the camera resumed');
    expect(viewer.alive).toBe(true);
    await viewer.stop();
  }, 120_000);
});
