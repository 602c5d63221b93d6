import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from 'pg';
import { createActor, toPromise } from 'xstate';
import { createPollerActors, type PollerRuns } from '../../src/actors/poller.js';
import { registerEngine } from '../../src/io/db/sql/registerEngine.js';
import { silentLogger } from '../../src/log.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertModelAndConfig, insertRun } from '../helpers/engineFixtures.js';

/**
 * The heartbeat on a real PostgreSQL, with runs whose config change never finishes applying (a model
 * loading for minutes): the lease must go on being renewed meanwhile (found in review: the heartbeat
 * awaited the change, skipped every later beat, and the lease ran out with every run).
 */
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ genericPlans: true });
});

afterAll(async () => {
  await db?.drop();
});

const quietRuns = (has: (id: string) => boolean): PollerRuns => ({
  count: 0,
  has,
  launch: () => undefined,
  stop: () => undefined,
  applyConfigChange: async () => undefined,
  abandonAll: async () => undefined,
  releaseAll: async () => undefined,
});

describe('the heartbeat actor', () => {
  it('keeps renewing the lease while a stale config it found is still being applied', async () => {
    const leaseTtlS = 0.6; // a beat every 200 ms
    const configId = await engineWithStaleRun('hb', leaseTtlS);

    const applying: string[] = [];
    const runs: PollerRuns = {
      ...quietRuns(() => true),
      applyConfigChange: (id) => {
        applying.push(id);
        return new Promise<void>(() => undefined); // never done
      },
    };
    await beatUntilRenewed('hb', leaseTtlS, runs, 6);
    // The later backstops found it in flight (and, after three TTLs, stuck: see the next test).
    expect(applying[0]).toBe(configId);
  });

  it('a change that has not finished in three TTLs no longer holds back a newer ask', async () => {
    const leaseTtlS = 0.6;
    await engineWithStaleRun('stuck', leaseTtlS);
    const asked: number[] = [];
    const runs: PollerRuns = {
      ...quietRuns(() => true),
      applyConfigChange: () => {
        asked.push(performance.now());
        return new Promise<void>(() => undefined); // never done
      },
    };
    const heartbeat = startHeartbeat('stuck', leaseTtlS, runs);
    try {
      await expect.poll(() => asked.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    } finally {
      heartbeat.stop();
    }
    expect(asked[1]! - asked[0]!).toBeGreaterThanOrEqual(3 * leaseTtlS * 1000);
  });

  it('asked again while a change is being applied, applies it once more after (a newer version may be there)', async () => {
    const leaseTtlS = 0.6;
    await engineWithStaleRun('again', leaseTtlS);
    let finishFirst!: () => void;
    const applying: string[] = [];
    const runs: PollerRuns = {
      ...quietRuns(() => true),
      applyConfigChange: (id) => {
        applying.push(id);
        return applying.length === 1 ? new Promise<void>((resolve) => (finishFirst = resolve)) : new Promise<void>(() => undefined);
      },
    };
    // Beats 0 and 3 check configs: the second ask comes while the first is in flight.
    await beatUntilRenewed('again', leaseTtlS, runs, 5);
    expect(applying).toHaveLength(1);
    // No heartbeat asks any more: only the ask that waited can apply it again.
    finishFirst();
    await expect.poll(() => applying.length, { timeout: 5_000 }).toBe(2);
  });

  it('hands back a run the database says it holds but it does not run (a claim whose answer was lost)', async () => {
    const leaseTtlS = 0.6;
    await registerEngine(db.pool, { id: 'lost', hostname: 'h', advertiseHost: '127.0.0.1', rtspPort: 8554, maxRuns: 4, capacityUnits: 1600, pool: 'cpu', leaseTtlS });
    const { configId } = await insertModelAndConfig(db.pool);
    const claimedAgo = `now() - interval '1 minute'`;
    const orphan = await insertRun(db.pool, configId, 'rtsp://cam/orphan', { state: 'starting', engine_id: 'lost', lease_epoch: 3 });
    const ours = await insertRun(db.pool, configId, 'rtsp://cam/ours', { state: 'running', engine_id: 'lost', lease_epoch: 1 });
    // Claimed just now: its answer may still be on its way, so it is left alone.
    const fresh = await insertRun(db.pool, configId, 'rtsp://cam/fresh', { state: 'starting', engine_id: 'lost', lease_epoch: 1 });
    await db.pool.query(`UPDATE runs SET claimed_at = ${claimedAgo} WHERE id = ANY($1)`, [[orphan, ours]]);
    await db.pool.query(`UPDATE runs SET claimed_at = now() + interval '1 hour' WHERE id = $1`, [fresh]);
    const heartbeat = startHeartbeat('lost', leaseTtlS, quietRuns((id) => id === ours));
    try {
      await expect.poll(async () => (await db.pool.query(`SELECT state FROM runs WHERE id = $1`, [orphan])).rows[0].state, { timeout: 10_000 }).toBe('pending');
    } finally {
      heartbeat.stop();
    }
    const states = await db.pool.query<{ id: string; state: string }>(`SELECT id, state FROM runs WHERE id = ANY($1)`, [[ours, fresh]]);
    expect(Object.fromEntries(states.rows.map((r) => [r.id, r.state]))).toEqual({ [ours]: 'running', [fresh]: 'starting' });
    const why = await db.pool.query(`SELECT reason, lease_epoch::int AS epoch FROM run_transitions WHERE run_id = $1 AND to_state = 'pending' AND from_state = 'starting'`, [orphan]);
    expect(why.rows).toEqual([{ reason: 'released: held in the database but not run by its engine', epoch: 3 }]);
  });
});

describe('a heartbeat answer that comes after the actor stopped', () => {
  it('acts on nothing: no reclaim is scheduled from it', async () => {
    await registerEngine(db.pool, { id: 'late-hb', hostname: 'h', advertiseHost: '127.0.0.1', rtspPort: 8554, maxRuns: 4, capacityUnits: 1600, pool: 'cpu', leaseTtlS: 0.6 });
    // Another engine whose lease runs out within our next beat: an answer would schedule its reclaim.
    await registerEngine(db.pool, { id: 'expiring', hostname: 'h', advertiseHost: '127.0.0.1', rtspPort: 8554, maxRuns: 4, capacityUnits: 1600, pool: 'cpu', leaseTtlS: 0.1 });
    // The heartbeat's answer takes 400 ms to come back; the actor is stopped meanwhile (a lost lease, a drain).
    let sent = false;
    const slow = new Proxy(db.pool, {
      get(target, key, receiver) {
        if (key !== 'query') return Reflect.get(target, key, receiver);
        return async (...args: Parameters<typeof target.query>) => {
          sent = true;
          const result = await (target.query as (...a: unknown[]) => Promise<unknown>)(...args);
          await new Promise((r) => setTimeout(r, 400));
          return result;
        };
      },
    });
    const heartbeat = createActor(pollerActors('late-hb', 0.6, quietRuns(() => false), { pool: slow }).heartbeat).start();
    await expect.poll(() => sent, { timeout: 5_000 }).toBe(true);
    heartbeat.stop();
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await db.pool.query(`SELECT 1 FROM engines WHERE id = 'expiring'`)).rowCount).toBe(1);
  });
});

describe('a claim round that waits for the runs\' writes', () => {
  it('claims nothing once the drain has begun', async () => {
    await db.pool.query(`DELETE FROM runs`);
    await registerEngine(db.pool, { id: 'drainer', hostname: 'h', advertiseHost: '127.0.0.1', rtspPort: 8554, maxRuns: 8, capacityUnits: 100_000, pool: 'cpu', leaseTtlS: 10 });
    const { configId } = await insertModelAndConfig(db.pool);
    const first = await insertRun(db.pool, configId, 'rtsp://cam/first');
    const launched: string[] = [];
    let writesQueued = false;
    const runs: PollerRuns = { ...quietRuns((id) => launched.includes(id)), launch: (row) => void launched.push(row.id) };
    const actors = pollerActors('drainer', 10, runs, { runsWritesQueued: () => writesQueued });
    // A round that took runs: the next one waits until their writes have gone out.
    await toPromise(createActor(actors.claim).start());
    expect(launched).toEqual([first]);
    const second = await insertRun(db.pool, configId, 'rtsp://cam/second');
    writesQueued = true;
    const waiting = toPromise(createActor(actors.claim).start());
    await new Promise((r) => setTimeout(r, 100));
    // SIGTERM: the drain begins while that round waits; then the writes catch up.
    const release = toPromise(createActor(actors.release).start());
    writesQueued = false;
    expect(await waiting).toBe(0);
    await release;
    expect(launched).toEqual([first]);
    expect((await db.pool.query(`SELECT state FROM runs WHERE id = $1`, [second])).rows[0].state).toBe('pending');
  });
});

/** An engine holding one running run of a config that has a newer version since (what the backstop finds). */
async function engineWithStaleRun(engineId: string, leaseTtlS: number): Promise<string> {
  await registerEngine(db.pool, { id: engineId, hostname: 'h', advertiseHost: '127.0.0.1', rtspPort: 8554, maxRuns: 4, capacityUnits: 1600, pool: 'cpu', leaseTtlS });
  const { configId, modelId } = await insertModelAndConfig(db.pool);
  await insertRun(db.pool, configId, `rtsp://cam/${engineId}`, { state: 'running', engine_id: engineId, config_version: 1 });
  await db.pool.query(`INSERT INTO config_versions (config_id, version, model_id, body) SELECT id, 2, $2, body FROM configs WHERE id = $1`, [configId, modelId]);
  await db.pool.query(`UPDATE configs SET version = 2 WHERE id = $1`, [configId]);
  return configId;
}

/** Runs the heartbeat until it has renewed the lease `renewals` times (10 s at most), then stops it. */
async function beatUntilRenewed(engineId: string, leaseTtlS: number, runs: PollerRuns, renewals: number): Promise<void> {
  let renewed = 0;
  const heartbeat = startHeartbeat(engineId, leaseTtlS, runs, () => renewed++);
  try {
    await expect.poll(() => renewed, { timeout: 10_000 }).toBeGreaterThanOrEqual(renewals);
  } finally {
    heartbeat.stop();
  }
}

function startHeartbeat(engineId: string, leaseTtlS: number, runs: PollerRuns, onRenewed: () => void = () => undefined) {
  return createActor(pollerActors(engineId, leaseTtlS, runs, { onRenewed }).heartbeat).start();
}

function pollerActors(engineId: string, leaseTtlS: number, runs: PollerRuns, o: { onRenewed?: () => void; runsWritesQueued?: () => boolean; pool?: Pool } = {}) {
  return createPollerActors({
    pool: o.pool ?? db.pool,
    databaseUrl: db.url,
    engineId,
    advertiseHost: '127.0.0.1',
    rtspPort: () => 8554,
    // Room for every run these tests insert (1080p25 each, 915 units, when the source is unmeasured).
    maxRuns: 8,
    capacityUnits: 100_000,
    enginePool: 'cpu',
    leaseTtlS,
    runs,
    logger: silentLogger,
    ...(o.runsWritesQueued ? { runsWritesQueued: o.runsWritesQueued } : {}),
    onLeaseWritten: (e) => {
      if (e.kind === 'renewed') o.onRenewed?.();
    },
  });
}
