import type { Pool } from 'pg';
import { silentLogger, type Logger } from '../../log.js';
import { migrations as defaultMigrations, type Migration } from './migrations/index.js';

/**
 * Session-level advisory lock held while migrating: every `sie` process migrates at start, so two
 * starting together would otherwise both try to CREATE the same tables. An arbitrary constant that
 * nothing else in the database uses ("sie" in ASCII, then 1).
 */
const MIGRATION_LOCK_KEY = 0x736965_01;

export interface MigrateResult {
  /** Versions applied by this call (empty when the schema was already current). */
  readonly applied: number[];
}

/**
 * Applies the pending migrations in order, each in its own transaction together with its row in
 * sie_migrations, so a failed migration leaves nothing half-done and is retried whole next time. The
 * runner's own statements are inline: they are the bootstrap, not API queries.
 */
export async function migrate(
  pool: Pool,
  opts: { logger?: Logger; migrations?: readonly Migration[] } = {},
): Promise<MigrateResult> {
  const log = opts.logger ?? silentLogger;
  const list = [...(opts.migrations ?? defaultMigrations)].sort((a, b) => a.version - b.version);
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS sie_migrations (
           version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const { rows } = await client.query<{ version: number }>('SELECT version FROM sie_migrations');
      const done = new Set(rows.map((r) => r.version));
      for (const m of list) {
        if (done.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO sie_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
        }
        applied.push(m.version);
        log.info({ version: m.version, name: m.name }, 'migration applied');
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
  return { applied };
}
