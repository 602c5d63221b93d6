import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
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

describe('the heartbeat actor', () => {
  it('keeps renewing the lease while a stale config it found is still being applied', async () => {
    const leaseTtlS = 0.6; // a beat every 200 ms
    await registerEngine(db.pool, { id: 'hb', hostname: 'h', advertiseHost: '127.0.0.1', rtspPort: 8554, maxRuns: 4, capacityUnits: 1600, pool: 'cpu', leaseTtlS });
    const { configId, modelId } = await insertModelAndConfig(db.pool);
    await insertRun(db.pool, configId, 'rtsp://cam/1', { state: 'running', engine_id: 'hb', config_version: 1 });
    await db.pool.query(`INSERT INTO config_versions (config_id, version, model_id, body) SELECT id, 2, $2, body FROM configs WHERE id = $1`, [configId, modelId]);
    await db.pool.query(`UPDATE configs SET version = 2 WHERE id = $1`, [configId]);

    const applying: string[] = [];
    const runs: PollerRuns = {
      count: 1,
      has: () => true,
      launch: () => undefined,
      stop: () => undefined,
      applyConfigChange: (id) => {
        applying.push(id);
        return new Promise<void>(() => undefined); // never done
      },
      abandonAll: async () => undefined,
      releaseAll: async () => undefined,
    };
    let renewed = 0;
    const actors = createPollerActors({
      pool: db.pool,
      databaseUrl: db.url,
      engineId: 'hb',
      advertiseHost: '127.0.0.1',
      rtspPort: () => 8554,
      maxRuns: 4,
      capacityUnits: 1600,
      enginePool: 'cpu',
      leaseTtlS,
      runs,
      logger: silentLogger,
      onLeaseWritten: (e) => {
        if (e.kind === 'renewed') renewed++;
      },
    });
    const heartbeat = createActor(actors.heartbeat).start();
    try {
      await expect.poll(() => renewed, { timeout: 10_000 }).toBeGreaterThanOrEqual(6);
    } finally {
      heartbeat.stop();
    }
    // Asked once: the later backstops found it still in flight.
    expect(applying).toEqual([configId]);
  });
});
