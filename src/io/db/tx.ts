import type { Pool, PoolClient } from 'pg';

/**
 * Runs `fn` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. The
 * API uses it where a check and a write must see the same rows (e.g. "no unfinished run uses this model"
 * then the soft delete), the check taking row locks that concurrent writers wait on.
 */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    // A failed ROLLBACK means the connection itself is gone: destroy it rather than pool it.
    await client.query('ROLLBACK').catch((e: Error) => (broken = e));
    throw err;
  } finally {
    client.release(broken);
  }
}
