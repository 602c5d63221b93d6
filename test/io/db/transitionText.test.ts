import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerEngine } from '../../../src/io/db/sql/registerEngine.js';
import { recordRunTransition } from '../../../src/io/db/sql/recordRunTransition.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { insertModelAndConfig, insertRun } from '../../helpers/engineFixtures.js';

/** A run's last transition must be storable whatever its error says (found in review). */
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ genericPlans: true });
});

afterAll(async () => {
  await db?.drop();
});

describe('recordRunTransition', () => {
  it('stores an error message with a NUL byte (PostgreSQL refuses them in text) with the byte replaced', async () => {
    await registerEngine(db.pool, { id: 'e1', hostname: 'h', advertiseHost: '127.0.0.1', rtspPort: 8554, maxRuns: 4, capacityUnits: 1600, pool: 'cpu', leaseTtlS: 10 });
    const { configId } = await insertModelAndConfig(db.pool);
    const run = await insertRun(db.pool, configId, 'rtsp://cam/1', { state: 'running', engine_id: 'e1', lease_epoch: 1 });
    const message = 'source lost: rtsp://cam/1: Invalid data\u0000found';
    const ok = await recordRunTransition(db.pool, { runId: run, engineId: 'e1', leaseEpoch: '1', to: 'failed', reason: null, error: { kind: 'source_lost', message }, attempts: 3 });
    expect(ok).toBe(true);
    const { rows } = await db.pool.query(`SELECT state, engine_id, error_message FROM runs WHERE id = $1`, [run]);
    expect(rows[0]).toEqual({ state: 'failed', engine_id: null, error_message: 'source lost: rtsp://cam/1: Invalid data\uFFFDfound' });
  });
});
