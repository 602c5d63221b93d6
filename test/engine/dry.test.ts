import { describe, expect, it } from 'vitest';
import type { TestDatabase } from '../helpers/db.js';
import { useEngineDatabase } from '../helpers/engineSuite.js';
import { insertRun } from '../helpers/engineFixtures.js';
import { freePort, sleep, start, until, type Spawned } from '../helpers/processes.js';
import { SIE } from '../helpers/media.js';

/**
 * `sie engine --dry` (issue 18 item 5): the real poller, lease, capacity-aware claims, fencing and drain,
 * with runs that only hold their cost. Two engine processes on a real PostgreSQL: the claims fill the
 * capacity and no more, a paused engine past its lease loses its runs to the other and writes nothing
 * when it wakes, and a drain hands everything back.
 */
let db: TestDatabase;
let configId: string;
useEngineDatabase((f) => ({ db, configId } = f));

/** A 576p10 camera as the run's hint: 236 cost units each (sie_run_cost). */
const SMALL = { source_width: 768, source_height: 576, source_fps: 10 };

async function dryEngine(capacity: number): Promise<Spawned> {
  const p = start(SIE, ['engine', '--dry', '--max-runs', '100', '--capacity', String(capacity), '--lease-ttl', '2', '--poll-interval', '0.2', '--rtsp-port', String(await freePort())], {
    SIE_DATABASE_URL: db.url,
  });
  await p.waitFor(/^engine: (\S+)/m, 30_000);
  return p;
}
const engineIdOf = (p: Spawned) => /^engine: (\S+)/m.exec(p.stdout())![1]!;

async function states(ids: string[]): Promise<Array<{ state: string; engine_id: string | null }>> {
  const { rows } = await db.pool.query<{ id: string; state: string; engine_id: string | null }>(`SELECT id, state, engine_id FROM runs WHERE id = ANY($1)`, [ids]);
  return ids.map((id) => rows.find((r) => r.id === id)!);
}

describe('sie engine --dry', () => {
  it('claims what fits its capacity, loses a paused engine’s runs to another, fences its writes, and drains', async () => {
    const a = await dryEngine(1000);
    const first: string[] = [];
    for (let i = 0; i < 4; i++) first.push(await insertRun(db.pool, configId, `rtsp://cam.local/${i}`, SMALL));
    await until(async () => (await states(first)).every((r) => r.state === 'running'), 30_000, 'four dry runs running on A');
    // 4 × 236 = 944 of 1000: two more do not fit; they wait.
    const more = [await insertRun(db.pool, configId, 'rtsp://cam.local/4', SMALL), await insertRun(db.pool, configId, 'rtsp://cam.local/5', SMALL)];
    await sleep(1500);
    expect((await states(more)).map((r) => r.state)).toEqual(['pending', 'pending']);

    const b = await dryEngine(100_000);
    await until(async () => (await states(more)).every((r) => r.state === 'running'), 30_000, 'B takes the two that did not fit A');
    const idA = engineIdOf(a);
    const idB = engineIdOf(b);
    expect((await states(first)).every((r) => r.engine_id === idA)).toBe(true);

    // A paused past its 2 s lease: B takes its runs; A, woken, must not write over them.
    a.child.kill('SIGSTOP');
    try {
      await until(async () => (await states(first)).every((r) => r.state === 'running' && r.engine_id === idB), 30_000, "B holds A's runs");
    } finally {
      a.child.kill('SIGCONT');
    }
    await a.waitFor(/engine lease lost/, 30_000);
    await sleep(1000);
    const all = [...first, ...more];
    expect((await states(all)).every((r) => r.state === 'running' && r.engine_id === idB)).toBe(true);
    // Fenced: A wrote nothing for a run once B had taken it (no row of A's after B's first).
    const { rows: late } = await db.pool.query(
      `SELECT run_id FROM run_transitions WHERE run_id = ANY($1)
       GROUP BY run_id HAVING max(id) FILTER (WHERE engine_id = $2) > min(id) FILTER (WHERE engine_id = $3)`,
      [first, idA, idB],
    );
    expect(late).toEqual([]);

    // A (holding nothing now) goes; then B's drain hands every run back to pending.
    a.child.kill('SIGTERM');
    expect((await a.exited).code).toBe(0);
    b.child.kill('SIGTERM');
    expect((await b.exited).code).toBe(0);
    expect((await states(all)).map((r) => r.state)).toEqual(all.map(() => 'pending'));
    const { rows: engines } = await db.pool.query(`SELECT id FROM engines`);
    expect(engines).toEqual([]);
  }, 150_000);
});
