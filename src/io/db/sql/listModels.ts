import { q, type ModelRow, type Queryable } from '../rows.js';

/** Models not deleted, newest first. Few rows per installation, so no paging. */
export async function listModels(db: Queryable): Promise<ModelRow[]> {
  const { rows } = await q<ModelRow>(db, `SELECT * FROM models WHERE deleted_at IS NULL ORDER BY created_at DESC, id`);
  return rows;
}
