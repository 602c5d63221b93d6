import pg from 'pg';
import type { Pool } from 'pg';
import { redactText } from '../../redact.js';
import { silentLogger, type Logger } from '../../log.js';

export type { Pool };

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/sie';

/** SIE_DATABASE_URL, or the local default that `make demo` and the tests use. */
export function databaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const v = env.SIE_DATABASE_URL?.trim();
  return v ? v : DEFAULT_DATABASE_URL;
}

export interface PoolOptions {
  /** Connections at most (default 10): the API and the engine's poller share few, short statements. */
  max?: number;
  logger?: Logger;
  applicationName?: string;
  /** Close a connection idle this long (default 30 s); 0 = keep it. */
  idleTimeoutMs?: number;
  /**
   * Plan each named statement once per connection (plan_cache_mode = force_generic_plan). PostgreSQL
   * otherwise plans a prepared statement anew at every execution whenever its generic plan looks dearer
   * than the custom ones: at 200 engines, planning was a quarter of the server's CPU (perf, steady phase).
   * Only for statements written for generic plans: the engine's.
   */
  genericPlans?: boolean;
}

export function createPool(url: string, opts: PoolOptions = {}): Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'sie',
    idleTimeoutMillis: opts.idleTimeoutMs ?? 30_000,
    connectionTimeoutMillis: 10_000,
    ...(opts.genericPlans ? { options: '-c plan_cache_mode=force_generic_plan' } : {}),
  });
  // An idle client whose server went away emits 'error' on the pool; unhandled, it would kill the
  // process. The next query gets a fresh connection, so logging is enough.
  const log = opts.logger ?? silentLogger;
  pool.on('error', (err) => log.warn({ err: redactText(err.message) }, 'idle database connection failed'));
  return pool;
}

/** The database named by the URL, and the URL of the server's maintenance database `postgres`. */
function splitDatabase(url: string): { name: string; adminUrl: string } {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!name) throw new Error(`database URL ${redactText(url)} names no database`);
  u.pathname = '/postgres';
  return { name, adminUrl: u.toString() };
}

/**
 * Creates the database named by `url` when it does not exist (`make demo`, `sie db create`, tests).
 * Returns true when it was created. CREATE DATABASE cannot take parameters, hence the quoted identifier.
 */
export async function ensureDatabase(url: string): Promise<boolean> {
  const { name, adminUrl } = splitDatabase(url);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
      return true;
    } catch (err) {
      // Another process created it between our check and our CREATE: that is what we wanted. Two
      // CREATEs racing fail with a unique violation on the catalog rather than 42P04.
      const code = (err as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false;
      throw err;
    }
  } finally {
    await client.end();
  }
}

/** Drops the database named by `url` (tests). Other sessions on it are ended first. */
export async function dropDatabase(url: string): Promise<void> {
  const { name, adminUrl } = splitDatabase(url);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
