import { q, type Queryable } from '../rows.js';

/** Marks a model deleted. The row and its files stay: old config versions still name it. */
export async function softDeleteModel(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await q(db, `UPDATE models SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL`, [id]);
  return rowCount === 1;
}
