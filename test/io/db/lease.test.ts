import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerEngine, unregisterEngine } from '../../../src/io/db/sql/registerEngine.js';
import { renewEngineLease } from '../../../src/io/db/sql/renewEngineLease.js';
import { reclaimExpiredRuns } from '../../../src/io/db/sql/reclaimExpiredRuns.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { insertModelAndConfig, insertRun } from '../../helpers/engineFixtures.js';

let db: TestDatabase;

beforeAll(async () => {
  // Planned as the engine's connections plan them (src/cli/engine.ts): generically, once per connection.
  db = await createTestDatabase({ genericPlans: true });
});

afterAll(async () => {
  await db?.drop();
});

const engine = (id: string) => ({ id, hostname: 'h', advertiseHost: '127.0.0.1', rtspPort: 8554, maxRuns: 4, capacityUnits: 1600, pool: 'cpu', leaseTtlS: 10 });

const beat = (engineId: string) => ({ engineId, leaseTtlS: 10, pool: 'cpu', pendingAfterS: 0.5, checkConfigs: true });

describe('engine lease', () => {
  it('a late heartbeat renews a lease that expired but that no engine has reclaimed (the runs are still ours)', async () => {
    await registerEngine(db.pool, engine('late'));
    await db.pool.query(`UPDATE engines SET lease_expires_at = now() - interval '1 second' WHERE id = 'late'`);
    expect(await renewEngineLease(db.pool, beat('late'))).not.toBeNull();
    // Renewed: a reclaim now leaves the engine (and its runs) alone.
    await reclaimExpiredRuns(db.pool);
    const { rowCount } = await db.pool.query(`SELECT 1 FROM engines WHERE id = 'late'`);
    expect(rowCount).toBe(1);
  });

  it('a heartbeat after the lease was reclaimed reports it lost', async () => {
    await registerEngine(db.pool, engine('dead'));
    await db.pool.query(`UPDATE engines SET lease_expires_at = now() - interval '1 second' WHERE id = 'dead'`);
    await reclaimExpiredRuns(db.pool);
    expect(await renewEngineLease(db.pool, beat('dead'))).toBeNull();
  });

  it('the heartbeat brings back the backstops: stops, config changes, a waiting run, our place, the next expiry', async () => {
    await db.pool.query(`DELETE FROM engines`);
    for (const id of ['hb-a', 'hb-b', 'hb-c']) await registerEngine(db.pool, engine(id));
    await registerEngine(db.pool, { ...engine('hb-gpu'), pool: 'gpu' });
    await db.pool.query(`UPDATE engines SET lease_expires_at = now() + interval '2 seconds' WHERE id = 'hb-c'`);
    const { configId, modelId } = await insertModelAndConfig(db.pool);
    // One of our runs carries on: neither stopped nor stale.
    await insertRun(db.pool, configId, 'rtsp://cam/mine', { state: 'running', engine_id: 'hb-b', config_version: 1 });
    const stopping = await insertRun(db.pool, configId, 'rtsp://cam/stop', { state: 'running', engine_id: 'hb-b', config_version: 1 });
    await db.pool.query(`UPDATE runs SET stop_requested_at = now() WHERE id = $1`, [stopping]);

    const first = await renewEngineLease(db.pool, beat('hb-b'));
    expect(first).toMatchObject({ stopRequested: [stopping], staleConfigs: [], pendingWaiting: false, rank: 1, peers: 3 });
    expect(first!.nextOtherExpiryS).toBeGreaterThan(0.5);
    expect(first!.nextOtherExpiryS).toBeLessThanOrEqual(2);

    // A newer config version; a gpu run waiting (not ours) and a cpu run waiting (ours to take).
    await db.pool.query(`INSERT INTO config_versions (config_id, version, model_id, body) SELECT id, 2, $2, body FROM configs WHERE id = $1`, [configId, modelId]);
    await db.pool.query(`UPDATE configs SET version = 2 WHERE id = $1`, [configId]);
    await insertRun(db.pool, configId, 'rtsp://cam/gpu', { pool: 'gpu' });
    await db.pool.query(`UPDATE runs SET updated_at = now() - interval '2 seconds' WHERE pool = 'gpu'`);
    const second = await renewEngineLease(db.pool, beat('hb-b'));
    expect(second).toMatchObject({ staleConfigs: [configId], pendingWaiting: false });
    await insertRun(db.pool, configId, 'rtsp://cam/any');
    expect((await renewEngineLease(db.pool, beat('hb-b')))!.pendingWaiting).toBe(false); // just inserted: the nudge's
    await db.pool.query(`UPDATE runs SET updated_at = now() - interval '2 seconds' WHERE pool IS NULL AND state = 'pending'`);
    expect((await renewEngineLease(db.pool, beat('hb-b')))!.pendingWaiting).toBe(true);
    expect((await renewEngineLease(db.pool, { ...beat('hb-gpu'), pool: 'gpu' }))).toMatchObject({ pendingWaiting: true, rank: 0, peers: 1 });
  });

  it("after a burst is claimed, the heartbeat's pending check leaves the pending index's dead entries marked: later scans skip them", async () => {
    await db.pool.query(`DELETE FROM runs`);
    await db.pool.query(`DELETE FROM engines`);
    await registerEngine(db.pool, engine('burst'));
    const { configId } = await insertModelAndConfig(db.pool);
    // VACUUM would remove the dead entries itself and prove nothing: this table is left to us.
    await db.pool.query(`ALTER TABLE runs SET (autovacuum_enabled = false)`);
    try {
      await db.pool.query(`INSERT INTO runs (client_id, config_id, source_url) SELECT 'acme', $1, 'rtsp://cam/' || i FROM generate_series(1, 2000) i`, [configId]);
      await db.pool.query(`UPDATE runs SET state = 'starting', engine_id = 'burst', lease_epoch = lease_epoch + 1`);
      // What a bitmap scan of the index reads (entries it does not skip), with nothing pending.
      const entriesRead = async (): Promise<number> => {
        const c = await db.pool.connect();
        try {
          await c.query('BEGIN');
          await c.query('SET LOCAL enable_indexscan = off');
          await c.query('SET LOCAL enable_seqscan = off');
          const { rows } = await c.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) SELECT 1 FROM runs WHERE state = 'pending'`);
          await c.query('ROLLBACK');
          return findNode(rows[0]!['QUERY PLAN'][0].Plan, 'Bitmap Index Scan')!['Actual Rows'];
        } finally {
          c.release();
        }
      };
      expect(await entriesRead()).toBeGreaterThanOrEqual(2000);
      // An entry is marked only once its tuple is dead to every snapshot of the server: while other test
      // files' transactions (on other databases, through a backend's start) hold the horizon back, a later
      // heartbeat does it. A heartbeat that read the index with a bitmap scan would never mark any.
      await expect
        .poll(async () => {
          expect((await renewEngineLease(db.pool, beat('burst')))!.pendingWaiting).toBe(false);
          return entriesRead();
        }, { timeout: 20_000, interval: 200 })
        .toBeLessThan(100);
      // A run that waits is still seen behind them.
      await insertRun(db.pool, configId, 'rtsp://cam/late');
      await db.pool.query(`UPDATE runs SET updated_at = now() - interval '2 seconds' WHERE state = 'pending'`);
      expect((await renewEngineLease(db.pool, beat('burst')))!.pendingWaiting).toBe(true);
    } finally {
      await db.pool.query(`ALTER TABLE runs RESET (autovacuum_enabled)`);
    }
  });
});

interface PlanNode {
  'Node Type': string;
  'Actual Rows': number;
  Plans?: PlanNode[];
}

function findNode(n: PlanNode, type: string): PlanNode | undefined {
  if (n['Node Type'] === type) return n;
  for (const c of n.Plans ?? []) {
    const f = findNode(c, type);
    if (f) return f;
  }
  return undefined;
}

describe('a reclaim racing a claim of the expiring engine', () => {
  it('never leaves the claimed run without an engine: the reclaim fails, and the next one moves the run', async () => {
    await registerEngine(db.pool, engine('racer'));
    const { configId } = await insertModelAndConfig(db.pool);
    const run = await insertRun(db.pool, configId, 'rtsp://cam/race');
    // The claim, in flight: its write of engine_id locks the engine row (the foreign key's KEY SHARE) until
    // it commits. Its lease then runs out; a reclaim begins and waits on that lock.
    const claimer = await db.pool.connect();
    try {
      await claimer.query('BEGIN');
      await claimer.query(`UPDATE runs SET state = 'starting', engine_id = 'racer', lease_epoch = lease_epoch + 1 WHERE id = $1`, [run]);
      await db.pool.query(`UPDATE engines SET lease_expires_at = now() - interval '1 second' WHERE id = 'racer'`);
      const reclaim = reclaimExpiredRuns(db.pool).then(
        (n) => ({ n }),
        (err: { code?: string }) => ({ code: err.code }),
      );
      await waitUntilBlocked();
      await claimer.query('COMMIT');
      // Its snapshot saw the run pending, so it had nothing to move; deleting the row must not orphan the run.
      expect(await reclaim).toEqual({ code: '23503' });
    } finally {
      claimer.release();
    }
    const held = await db.pool.query(`SELECT state, engine_id FROM runs WHERE id = $1`, [run]);
    expect(held.rows[0]).toEqual({ state: 'starting', engine_id: 'racer' });
    // The next reclaim sees the claim and hands the run back.
    expect(await reclaimExpiredRuns(db.pool)).toBeGreaterThanOrEqual(1);
    const back = await db.pool.query(`SELECT state, engine_id FROM runs WHERE id = $1`, [run]);
    expect(back.rows[0]).toEqual({ state: 'pending', engine_id: null });
    expect((await db.pool.query(`SELECT 1 FROM engines WHERE id = 'racer'`)).rowCount).toBe(0);
  });

  it('a drain whose release of a run failed cannot remove the engine row: the run is reclaimed at the lease expiry', async () => {
    await registerEngine(db.pool, engine('drainer'));
    const { configId } = await insertModelAndConfig(db.pool);
    const run = await insertRun(db.pool, configId, 'rtsp://cam/unreleased', { state: 'running', engine_id: 'drainer' });
    await expect(unregisterEngine(db.pool, 'drainer')).rejects.toMatchObject({ code: '23503' });
    await db.pool.query(`UPDATE engines SET lease_expires_at = now() - interval '1 second' WHERE id = 'drainer'`);
    await reclaimExpiredRuns(db.pool);
    const back = await db.pool.query(`SELECT state, engine_id FROM runs WHERE id = $1`, [run]);
    expect(back.rows[0]).toEqual({ state: 'pending', engine_id: null });
  });
});

/** Until a statement of this database waits on a lock (the reclaim behind the claim's transaction). */
async function waitUntilBlocked(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rowCount } = await db.pool.query(
      `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'WITH dead AS%'`,
    );
    if (rowCount) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the reclaim never waited on the claim');
}
