import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../../src/io/db/pool.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
});
afterAll(async () => {
  await db?.drop();
});

describe('createPool', () => {
  it('genericPlans: every connection of the pool plans named statements once (force_generic_plan); others keep auto', async () => {
    const generic = createPool(db.url, { max: 2, genericPlans: true });
    const plain = createPool(db.url, { max: 1 });
    try {
      const shown = await Promise.all([generic.query('SHOW plan_cache_mode'), generic.query('SHOW plan_cache_mode')]);
      for (const r of shown) expect(r.rows[0].plan_cache_mode).toBe('force_generic_plan');
      expect((await plain.query('SHOW plan_cache_mode')).rows[0].plan_cache_mode).toBe('auto');
    } finally {
      await generic.end();
      await plain.end();
    }
  });
});
