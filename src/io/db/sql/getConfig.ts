import { q, type ConfigRow, type Queryable } from '../rows.js';

/** A config that is not deleted (its current version is in the row itself). */
export async function getConfig(db: Queryable, id: string): Promise<ConfigRow | undefined> {
  const { rows } = await q<ConfigRow>(db, `SELECT * FROM configs WHERE id = $1 AND deleted_at IS NULL`, [id]);
  return rows[0];
}
