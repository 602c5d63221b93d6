import { q, type ModelRow, type Queryable } from '../rows.js';

/** A model that is not deleted; undefined otherwise (the API answers 404 / 422 the same for both). */
export async function getModel(db: Queryable, id: string): Promise<ModelRow | undefined> {
  const { rows } = await q<ModelRow>(db, `SELECT * FROM models WHERE id = $1 AND deleted_at IS NULL`, [id]);
  return rows[0];
}
