import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { createPool, databaseUrl, dropDatabase, ensureDatabase } from '../../src/io/db/pool.js';
import { migrate } from '../../src/io/db/migrate.js';

export interface TestDatabase {
  /** URL of the fresh database (same server as SIE_DATABASE_URL). */
  readonly url: string;
  /** A pool on it, already migrated. */
  readonly pool: Pool;
  /** Ends the pool and drops the database; call in afterAll. */
  drop(): Promise<void>;
}

/** A database URL on the test server with a random name, not yet created. */
export function randomDatabaseUrl(prefix = 'sie_test'): string {
  const u = new URL(databaseUrl());
  u.pathname = `/${prefix}_${randomBytes(6).toString('hex')}`;
  return u.toString();
}

/**
 * Each test file gets its own database (created, migrated, dropped in afterAll), so files run in
 * parallel without seeing each other's rows, and a failed run leaves nothing that breaks the next.
 */
export async function createTestDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const url = randomDatabaseUrl();
  await ensureDatabase(url);
  const pool = createPool(url, { max: 5 });
  if (opts.migrate ?? true) await migrate(pool);
  let dropped = false;
  return {
    url,
    pool,
    async drop() {
      if (dropped) return;
      dropped = true;
      await pool.end();
      await dropDatabase(url);
    },
  };
}
