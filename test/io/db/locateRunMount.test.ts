import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerEngine } from '../../../src/io/db/sql/registerEngine.js';
import { locateRunMount } from '../../../src/io/db/sql/locateRunMount.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { insertModelAndConfig, insertRun } from '../../helpers/engineFixtures.js';

/**
 * The lookup behind every engine's RTSP redirect (issue 18 item 3): the run's holder, when it is another
 * engine whose lease is current. A crashed engine keeps its runs until they are reclaimed; a redirect to
 * it would leave the client connecting to a pod that is gone, where a 404 makes it retry.
 */
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ genericPlans: true });
});

afterAll(async () => {
  await db?.drop();
});

const engine = (id: string, rtspPort: number) => ({ id, hostname: 'h', advertiseHost: '10.0.0.1', rtspPort, maxRuns: 4, capacityUnits: 1600, pool: 'cpu', leaseTtlS: 10 });

describe('locateRunMount', () => {
  it('names the live holder, never the asking engine, and not a holder whose lease has expired', async () => {
    await registerEngine(db.pool, engine('holder', 8554));
    await registerEngine(db.pool, engine('asker', 8555));
    const { configId } = await insertModelAndConfig(db.pool);
    await insertRun(db.pool, configId, 'rtsp://cam/1', { state: 'running', engine_id: 'holder', output_mount: 'lobby', output_url: 'rtsp://10.0.0.1:8554/lobby' });

    expect(await locateRunMount(db.pool, 'lobby', 'asker')).toBe('rtsp://10.0.0.1:8554/lobby');
    expect(await locateRunMount(db.pool, 'lobby', 'holder')).toBeUndefined();
    expect(await locateRunMount(db.pool, 'nobody', 'asker')).toBeUndefined();

    // The holder crashed: its lease ran out, nobody has reclaimed its runs yet.
    await db.pool.query(`UPDATE engines SET lease_expires_at = now() - interval '1 second' WHERE id = 'holder'`);
    expect(await locateRunMount(db.pool, 'lobby', 'asker')).toBeUndefined();
  });
});
