import { q, type Queryable, type RunRow } from '../rows.js';

/** One run by id, whatever its state (finished runs stay readable until deleted). */
export async function getRun(db: Queryable, id: string): Promise<RunRow | undefined> {
  const { rows } = await q<RunRow>(db, `SELECT * FROM runs WHERE id = $1`, [id]);
  return rows[0];
}
