import { q, type ModelRow, type Queryable } from '../rows.js';

/**
 * First step of a model delete, inside a transaction: FOR UPDATE makes a concurrent run creation (which
 * holds FOR KEY SHARE on its config's model) finish first, so the in-use check that follows sees its run.
 */
export async function lockModel(db: Queryable, id: string): Promise<ModelRow | undefined> {
  const { rows } = await q<ModelRow>(db, `SELECT * FROM models WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, [id]);
  return rows[0];
}
