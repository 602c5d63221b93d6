import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claimRuns } from '../../../src/io/db/sql/claimRuns.js';
import { registerEngine } from '../../../src/io/db/sql/registerEngine.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

/**
 * Capacity-aware claims (issue 18 item 2) against real PostgreSQL: runs cost CPU ms per second of video
 * (sie_run_cost, migration 0007), a claim takes the oldest runs that fit the engine's free units, stops
 * at the first that does not (no starvation of a large run behind small ones), an idle engine takes an
 * oversized oldest run, and pools keep GPU runs off CPU engines.
 */
let db: TestDatabase;
let every1: string;
let every3: string;

beforeAll(async () => {
  // Planned as the engine's connections plan them (src/cli/engine.ts): generically, once per connection.
  db = await createTestDatabase({ genericPlans: true });
  const m = await db.pool.query<{ id: string }>(
    `INSERT INTO models (name, format, sha256, file_path, labels_path, size_bytes, input_width, input_height, labels)
     VALUES ('m', 'yolox', 'cap', 'models/x.onnx', 'models/x.txt', 1, 416, 416, '["person"]') RETURNING id`,
  );
  const config = async (nth: number) =>
    (
      await db.pool.query<{ id: string }>(
        `WITH c AS (INSERT INTO configs (client_id, name, model_id, body) VALUES ('acme', 'c', $1, $2::jsonb) RETURNING id, model_id, body)
         INSERT INTO config_versions (config_id, version, model_id, body) SELECT id, 1, model_id, body FROM c RETURNING config_id AS id`,
        [m.rows[0]!.id, JSON.stringify({ inference: { every_nth_frame: nth }, rules: [], drawing: {} })],
      )
    ).rows[0]!.id;
  every1 = await config(1);
  every3 = await config(3);
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.pool.query(`DELETE FROM runs`);
  await db.pool.query(`DELETE FROM engines`);
});

let seq = 0;
/** A pending run, `k` seconds old order preserved, with its source hint. */
async function run(o: { size?: [number, number, number]; nth3?: boolean; pool?: string } = {}): Promise<string> {
  const [w, h, fps] = o.size ?? [null, null, null];
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO runs (client_id, config_id, source_url, pool, source_width, source_height, source_fps, created_at)
     VALUES ('acme', $1, 'rtsp://cam/1', $2, $3, $4, $5, now() + make_interval(secs => $6)) RETURNING id`,
    [o.nth3 ? every3 : every1, o.pool ?? null, w, h, fps, seq++],
  );
  return rows[0]!.id;
}

async function claim(engineId: string, capacityUnits: number, pool = 'cpu', maxRuns = 100): Promise<string[]> {
  await registerEngine(db.pool, { id: engineId, hostname: 'h', advertiseHost: '127.0.0.1', rtspPort: 8554, maxRuns, capacityUnits, pool, leaseTtlS: 10 });
  return (await claimRuns(db.pool, { engineId, maxRuns, capacityUnits, pool, advertiseHost: '127.0.0.1', rtspPort: 8554 })).map((r) => r.id);
}

const cost = async (w: number, h: number, fps: number, nth: number) =>
  (await db.pool.query<{ c: number }>(`SELECT sie_run_cost($1, $2, $3, $4, 416, 416) AS c`, [w, h, fps, nth])).rows[0]!.c;

describe('run cost (sie_run_cost)', () => {
  it('grows with pixels and frame rate, and the model part shrinks with every_nth_frame', async () => {
    expect(await cost(1920, 1080, 25, 1)).toBe(915);
    expect(await cost(1280, 720, 25, 1)).toBe(685);
    expect(await cost(1920, 1080, 25, 3)).toBe(582);
    expect(await cost(768, 576, 10, 1)).toBe(236);
    // An unknown source counts as 1080p25 (the run_costs view's default).
    const id = await run();
    const { rows } = await db.pool.query<{ cost: number }>(`SELECT cost FROM run_costs WHERE run_id = $1`, [id]);
    expect(rows[0]!.cost).toBe(915);
  });
});

describe('claims that fit', () => {
  it('takes the oldest runs whose summed cost fits, and no more', async () => {
    const a = await run({ size: [1280, 720, 25] }); // 685
    const b = await run({ size: [1280, 720, 25] }); // 685: 1370
    await run({ size: [1280, 720, 25] }); // 2055 > 1600
    expect(await claim('e1', 1600)).toEqual([a, b]);
    // What the engine holds counts: nothing more fits now.
    expect(await claim('e1', 1600)).toEqual([]);
  });

  it('never lets younger small runs overtake a large one at the head: they wait behind it', async () => {
    const small = await run({ size: [768, 576, 10] }); // 236
    const large = await run({ size: [1920, 1080, 25] }); // 915
    await run({ size: [768, 576, 10] });
    // 236 + 915 > 1000: the claim stops at the large run; the small one behind it is not taken.
    expect(await claim('e1', 1000)).toEqual([small]);
    // An engine with room takes the large one first.
    expect(await claim('e2', 1600)).toEqual(expect.arrayContaining([large]));
  });

  it('an idle engine takes the oldest run even when it costs more than its whole capacity', async () => {
    const huge = await run({ size: [3840, 2160, 30] }); // 2591
    const small = await run({ size: [768, 576, 10] });
    expect(await claim('small-engine', 1000)).toEqual([huge]);
    // Busy now: the next run must fit what is left (nothing).
    expect(await claim('small-engine', 1000)).toEqual([]);
    expect(await claim('other', 1000)).toEqual([small]);
  });

  it('pools: a run asking for gpu waits for a gpu engine; a run asking for none goes anywhere', async () => {
    const gpu = await run({ pool: 'gpu', size: [768, 576, 10] });
    const any = await run({ size: [768, 576, 10] });
    expect(await claim('cpu-1', 1600, 'cpu')).toEqual([any]);
    expect(await claim('gpu-1', 1600, 'gpu')).toEqual([gpu]);
  });

  it('--max-runs still caps the count', async () => {
    const [a] = [await run({ size: [768, 576, 10] }), await run({ size: [768, 576, 10] })];
    expect(await claim('e1', 100_000, 'cpu', 1)).toEqual([a]);
  });

  it("writes the engine's address into the run's output URL, an IPv6 one in brackets", async () => {
    const args = { maxRuns: 10, capacityUnits: 100_000, pool: 'cpu', rtspPort: 8554 };
    await registerEngine(db.pool, { id: 'v6', hostname: 'h', advertiseHost: 'fd00::5', rtspPort: 8554, maxRuns: 10, capacityUnits: 100_000, pool: 'cpu', leaseTtlS: 10 });
    const urls: string[] = [];
    for (const advertiseHost of ['fd00::5', '[fd00::6]', '10.0.0.7', 'engine-0.sie']) {
      const id = await run({ size: [768, 576, 10] });
      const [claimed] = await claimRuns(db.pool, { engineId: 'v6', advertiseHost, ...args });
      urls.push(claimed!.output_url.replace(id, 'ID'));
    }
    expect(urls).toEqual(['rtsp://[fd00::5]:8554/ID', 'rtsp://[fd00::6]:8554/ID', 'rtsp://10.0.0.7:8554/ID', 'rtsp://engine-0.sie:8554/ID']);
  });

  it('only with a live lease: an engine whose row was reclaimed, or whose lease ran out, claims nothing', async () => {
    const a = await run({ size: [768, 576, 10] });
    const args = { maxRuns: 10, capacityUnits: 1600, pool: 'cpu', advertiseHost: '127.0.0.1', rtspPort: 8554 };
    // Never registered, or its row deleted by the engine that reclaimed its runs (it was paused past its TTL).
    expect(await claimRuns(db.pool, { engineId: 'gone', ...args })).toEqual([]);
    await registerEngine(db.pool, { id: 'late', hostname: 'h', advertiseHost: '127.0.0.1', rtspPort: 8554, maxRuns: 10, capacityUnits: 1600, pool: 'cpu', leaseTtlS: 10 });
    await db.pool.query(`UPDATE engines SET lease_expires_at = now() - interval '1 second' WHERE id = 'late'`);
    expect(await claimRuns(db.pool, { engineId: 'late', ...args })).toEqual([]);
    expect(await claim('e1', 1600)).toEqual([a]);
    // The claim's transition carries the epoch it gave the run (the scale test's two-holders audit).
    const { rows } = await db.pool.query(
      `SELECT t.engine_id, t.lease_epoch::text AS lease_epoch, r.lease_epoch::text AS run_epoch FROM run_transitions t JOIN runs r ON r.id = t.run_id
       WHERE t.run_id = $1 AND t.to_state = 'starting'`,
      [a],
    );
    expect(rows).toEqual([{ engine_id: 'e1', lease_epoch: rows[0].run_epoch, run_epoch: rows[0].run_epoch }]);
  });

  it('detecting on every 3rd frame costs less, so more runs fit', async () => {
    const ids = [await run({ nth3: true }), await run({ nth3: true }), await run({ nth3: true })]; // 582 each
    expect(await claim('e1', 1600)).toEqual(ids.slice(0, 2));
  });
});
