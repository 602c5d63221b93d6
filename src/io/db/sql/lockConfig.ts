import { q, type ConfigRow, type Queryable } from '../rows.js';

/**
 * First step of a config delete, inside a transaction: FOR UPDATE waits for run creations holding FOR
 * KEY SHARE on this config, so the in-use check that follows sees their runs.
 */
export async function lockConfig(db: Queryable, id: string): Promise<ConfigRow | undefined> {
  const { rows } = await q<ConfigRow>(db, `SELECT * FROM configs WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, [id]);
  return rows[0];
}
