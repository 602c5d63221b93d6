import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, databaseUrl, DEFAULT_DATABASE_URL, dropDatabase, ensureDatabase } from '../../../src/io/db/pool.js';
import { migrate } from '../../../src/io/db/migrate.js';
import { migrations } from '../../../src/io/db/migrations/index.js';
import { createTestDatabase, randomDatabaseUrl, type TestDatabase } from '../../helpers/db.js';

describe('databaseUrl', () => {
  it('reads SIE_DATABASE_URL, with the local default', () => {
    expect(databaseUrl({})).toBe(DEFAULT_DATABASE_URL);
    expect(databaseUrl({ SIE_DATABASE_URL: '  ' })).toBe(DEFAULT_DATABASE_URL);
    expect(databaseUrl({ SIE_DATABASE_URL: 'postgres://u@db:5432/x' })).toBe('postgres://u@db:5432/x');
  });
});

describe('ensureDatabase', () => {
  it('creates a missing database once, then reports it exists', async () => {
    const url = randomDatabaseUrl('sie_test_ensure');
    try {
      const both = await Promise.all([ensureDatabase(url), ensureDatabase(url)]);
      expect(both.filter(Boolean)).toHaveLength(1);
      expect(await ensureDatabase(url)).toBe(false);
    } finally {
      await dropDatabase(url);
    }
  });
});

describe('migrate', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(() => db.drop());

  const tables = async (): Promise<string[]> =>
    (await db.pool.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows.map((r) => r.t);

  it('applies every migration once when several processes start together', async () => {
    const pools = [createPool(db.url, { max: 1 }), createPool(db.url, { max: 1 }), createPool(db.url, { max: 1 })];
    try {
      const results = await Promise.all(pools.map((p) => migrate(p)));
      const applied = results.flatMap((r) => r.applied);
      expect(applied).toEqual(migrations.map((m) => m.version));
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
    expect(await tables()).toEqual(['config_versions', 'configs', 'engines', 'events', 'model_blobs', 'models', 'run_transitions', 'runs', 'sie_migrations']);
    const { rows } = await db.pool.query('SELECT version, name FROM sie_migrations ORDER BY version');
    expect(rows).toEqual(migrations.map((m) => ({ version: m.version, name: m.name })));
  });

  it('is idempotent: a second run applies nothing', async () => {
    expect(await migrate(db.pool)).toEqual({ applied: [] });
    expect((await db.pool.query('SELECT count(*)::int AS n FROM sie_migrations')).rows[0].n).toBe(migrations.length);
  });

  it('rolls a failing migration back whole and applies it once fixed', async () => {
    const broken = { version: 9001, name: 'broken', sql: 'CREATE TABLE half_done (x int); SELECT 1 / 0;' };
    await expect(migrate(db.pool, { migrations: [...migrations, broken] })).rejects.toThrow(/migration 9001 \(broken\) failed: division by zero/);
    expect(await tables()).not.toContain('half_done');
    const fixed = { ...broken, sql: 'CREATE TABLE half_done (x int);' };
    expect(await migrate(db.pool, { migrations: [...migrations, fixed] })).toEqual({ applied: [9001] });
    expect(await tables()).toContain('half_done');
    // The advisory lock was released on failure too: nobody waits on it now.
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
       WHERE l.locktype = 'advisory' AND d.datname = current_database()`,
    );
    expect(rows[0].n).toBe(0);
  });
});
