import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerEngine } from '../../../src/io/db/sql/registerEngine.js';
import { renewEngineLease } from '../../../src/io/db/sql/renewEngineLease.js';
import { reclaimExpiredRuns } from '../../../src/io/db/sql/reclaimExpiredRuns.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

const engine = (id: string) => ({ id, hostname: 'h', advertiseHost: '127.0.0.1', rtspPort: 8554, maxRuns: 4, capacityUnits: 1600, pool: 'cpu', leaseTtlS: 10 });

describe('engine lease', () => {
  it('a late heartbeat renews a lease that expired but that no engine has reclaimed (the runs are still ours)', async () => {
    await registerEngine(db.pool, engine('late'));
    await db.pool.query(`UPDATE engines SET lease_expires_at = now() - interval '1 second' WHERE id = 'late'`);
    expect(await renewEngineLease(db.pool, 'late', 10)).toBe(true);
    // Renewed: a reclaim now leaves the engine (and its runs) alone.
    await reclaimExpiredRuns(db.pool);
    const { rowCount } = await db.pool.query(`SELECT 1 FROM engines WHERE id = 'late'`);
    expect(rowCount).toBe(1);
  });

  it('a heartbeat after the lease was reclaimed reports it lost', async () => {
    await registerEngine(db.pool, engine('dead'));
    await db.pool.query(`UPDATE engines SET lease_expires_at = now() - interval '1 second' WHERE id = 'dead'`);
    await reclaimExpiredRuns(db.pool);
    expect(await renewEngineLease(db.pool, 'dead', 10)).toBe(false);
  });
});
