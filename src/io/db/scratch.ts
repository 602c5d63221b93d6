import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { migrate } from './migrate.js';
import { createPool, databaseUrl, dropDatabase, ensureDatabase } from './pool.js';

/** A database of its own on SIE_DATABASE_URL's server, for a test file or a benchmark; dropped after. */
export interface ScratchDatabase {
  /** Its URL (the server's credentials included: never printed). */
  readonly url: string;
  /** Its name alone: what may be printed. */
  readonly name: string;
  /** A pool on it (migrated unless asked otherwise). */
  readonly pool: Pool;
  /** Ends the pool and drops the database; a second call does nothing. */
  drop(): Promise<void>;
}

/** A URL on SIE_DATABASE_URL's server naming a database `<prefix>_<random hex>`, not yet created. */
export function randomDatabaseUrl(prefix: string): string {
  const u = new URL(databaseUrl());
  u.pathname = `/${prefix}_${randomBytes(6).toString('hex')}`;
  return u.toString();
}

/** Creates (and by default migrates) a randomly named database, with a pool on it. */
export async function createScratchDatabase(
  prefix: string,
  opts: { migrate?: boolean; max?: number; applicationName?: string; genericPlans?: boolean } = {},
): Promise<ScratchDatabase> {
  const url = randomDatabaseUrl(prefix);
  await ensureDatabase(url);
  const pool = createPool(url, {
    max: opts.max ?? 5,
    genericPlans: opts.genericPlans,
    ...(opts.applicationName ? { applicationName: opts.applicationName } : {}),
  });
  if (opts.migrate ?? true) await migrate(pool);
  let dropped = false;
  return {
    url,
    name: new URL(url).pathname.slice(1),
    pool,
    async drop() {
      if (dropped) return;
      dropped = true;
      await pool.end();
      await dropDatabase(url);
    },
  };
}
