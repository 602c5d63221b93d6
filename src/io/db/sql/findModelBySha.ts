import { q, type ModelRow, type Queryable } from '../rows.js';

/** The model stored under these weights, deleted or not (sha256 is unique across both). */
export async function findModelBySha(db: Queryable, sha256: string): Promise<ModelRow | undefined> {
  const { rows } = await q<ModelRow>(db, `SELECT * FROM models WHERE sha256 = $1`, [sha256]);
  return rows[0];
}
