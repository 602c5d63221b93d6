import { q, type Queryable } from '../rows.js';

/** Marks a config deleted; finished runs and their history still reference it. */
export async function softDeleteConfig(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await q(
    db,
    `UPDATE configs SET deleted_at = now(), updated_at = now() WHERE id = $1 AND deleted_at IS NULL`,
    [id],
  );
  return rowCount === 1;
}
